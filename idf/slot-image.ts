/*
 * Reading an app image back from an OTA slot, as esp_image_verify does from the partition: it
 * follows the image's own headers, so whatever lies after the image in the slot is ignored.
 */
import {HEADER_PROBE_LENGTH} from "../ota/image";
import {ImageVerifier, type ImageVerdict} from "./image-verifier";
import type {DigestFactory} from "../ota/ports";
import type {FlashPartition} from "./nor-flash";

/** One flash sector per read: the lin build runs this in XS, where a bigger block would grow the chunk heap. */
const READ_BLOCK = 4096;

/** Verifies the image at the start of a slot (checksum, appended SHA-256, fits the slot, chip when given). */
export function verifySlotImage(slot: FlashPartition, createDigest: DigestFactory, chipId?: number): ImageVerdict {
	const verifier = new ImageVerifier(createDigest, {chipId, capacity: slot.size});
	for (let at = 0; at < slot.size && !verifier.finished; at += READ_BLOCK)
		verifier.write(slot.read(at, Math.min(READ_BLOCK, slot.size - at)));
	return verifier.end();
}

/** The first HEADER_PROBE_LENGTH = 328 bytes of a slot (header, first segment header, app descriptor, firmware identity). */
export function readSlotHeader(slot: FlashPartition): Uint8Array {
	return slot.read(0, Math.min(HEADER_PROBE_LENGTH, slot.size));
}
