/*
 * The simulated node's fctry partition: provisioning it with an NVS image (as `esp-rainmaker-cli
 * claim` flashes one) and reading the claim data back with the platform-neutral NVS reader, as the
 * lin build does from the same flash file.
 */
import {FCTRY_PARTITION, readClaimedCredentials, type ClaimedCredentials} from "../../idf/fctry";
import type {FlashDevice} from "../../idf/flash-device";
import {FlashPartition} from "../../idf/nor-flash";
import {NvsPartition} from "../../idf/nvs";

function fctryPartition(device: FlashDevice): FlashPartition {
	const partition = device.partition(FCTRY_PARTITION);
	if (!partition) throw new Error(`the partition table has no ${FCTRY_PARTITION} partition`);
	return partition;
}

/** Writes an NVS image into the fctry partition (the rest of the partition is left erased). */
export function provisionFctry(device: FlashDevice, image: Uint8Array): void {
	const partition = fctryPartition(device);
	if (image.length === 0 || image.length > partition.size || image.length % 4096 !== 0)
		throw new Error(
			`fctry image of ${image.length} bytes: must be a multiple of 4096 bytes and at most the partition's ${partition.size}`,
		);
	partition.erase(0, partition.size);
	partition.write(0, image);
}

/** The claim data in the fctry partition, or undefined when it holds none. */
export function readFctry(device: FlashDevice): ClaimedCredentials | undefined {
	const partition = fctryPartition(device);
	return readClaimedCredentials(new NvsPartition((offset, length) => partition.read(offset, length), partition.size));
}
