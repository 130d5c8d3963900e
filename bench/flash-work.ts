/*
 * Benchmark 5 (issue 11): the flash work of an install on the host flash model. The real firmware
 * (update engine, host update partition with esp_ota_write's erase-as-you-go) installs an image
 * on a flash file whose erases and writes are counted inside the target OTA slot:
 * - sectors erased ÷ the minimum (the image's size in 4 KiB sectors), and
 * - bytes programmed ÷ the image's size,
 * for a clean install (1.00 expected) and for one with a transfer cut once and resumed (≤ 1.05:
 * only the bytes between the last sector-aligned checkpoint and the cut are written again).
 * Everything runs in-process on the virtual clock (the fast lane's simulated node).
 */
import {FileFlash} from "../host/adapters/flash";
import {HostDevice} from "../host/adapters/host-device";
import {readEfuse} from "../host/adapters/efuse";
import {readPartitionTable} from "../host/adapters/partitions";
import {buildAppImage} from "../host/tools/app-image";
import {jobFor, SimNode} from "../tests/unit/support/sim-node";

const SECTOR = 4096;

interface Range {
	readonly start: number;
	readonly end: number;
}

/** A flash file that counts erased sectors and programmed bytes inside a watched range. */
class CountingFlash extends FileFlash {
	watch: Range | undefined;
	sectorsErased = 0;
	bytesProgrammed = 0;
	otherOperations = 0;

	override erase(offset: number, length: number): void {
		if (this.#inside(offset, length)) this.sectorsErased += length / SECTOR;
		else this.otherOperations++;
		super.erase(offset, length);
	}

	override write(offset: number, data: Uint8Array): void {
		if (this.#inside(offset, data.length)) this.bytesProgrammed += data.length;
		else this.otherOperations++;
		super.write(offset, data);
	}

	#inside(offset: number, length: number): boolean {
		const watch = this.watch;
		return watch !== undefined && offset >= watch.start && offset + length <= watch.end;
	}
}

export interface FlashWork {
	readonly imageBytes: number;
	readonly minimumSectors: number;
	readonly sectorsErased: number;
	readonly bytesProgrammed: number;
	/** Offset at which the first transfer was cut (resumed runs). */
	readonly cutAt?: number;
	readonly attempts: number;
}

/** Installs `image` as 2.0.0 over 1.0.0; when `cutAt` is set the first transfer ends there and the next attempt resumes. */
function install(image: Uint8Array, cutAt?: number): FlashWork {
	const flashes: CountingFlash[] = [];
	const totals = {sectorsErased: 0, bytesProgrammed: 0};
	let watch: Range | undefined;
	const node = new SimNode({
		nodeId: "bench-flash",
		openDevice: flashFile => {
			const flash = new CountingFlash(flashFile, {sync: false});
			flashes.push(flash);
			flash.watch = watch;
			return new HostDevice(flash, readPartitionTable(), readEfuse(flashFile));
		},
	});
	try {
		node.powerOn();
		const target = node.device!.slots[1].partition; // the update slot of a node running ota_0
		watch = {start: target.offset, end: target.offset + target.size};
		const flash = flashes.at(-1)!;
		flash.watch = watch;
		const job = jobFor(node, "bench-job", image, "2.0.0");
		if (cutAt !== undefined) node.http.serve(job.url, {body: image, cutAfter: cutAt});
		node.offerAndApprove(job);
		node.until(
			() => node.firmware!.ota.state === "rebooting" || node.firmware!.ota.state === "idle",
			"the end of the install",
		);
		if (node.firmware!.ota.state !== "rebooting")
			throw new Error(`the install failed: ${node.texts("bench-job").join(" / ")}`);
		totals.sectorsErased = flash.sectorsErased;
		totals.bytesProgrammed = flash.bytesProgrammed;
		const attempts = node
			.texts("bench-job")
			.filter(text => text.startsWith("in-progress: Starting OTA Upgrade")).length;
		return {imageBytes: image.length, minimumSectors: Math.ceil(image.length / SECTOR), ...totals, cutAt, attempts};
	} finally {
		node.close();
	}
}

export function measureFlashWork(quick: boolean): {clean: FlashWork; resumed: FlashWork} {
	const image = buildAppImage({version: "2.0.0", payloadSize: quick ? 300_000 : 1_500_000});
	// Cut the first transfer in the middle of a sector, well past a checkpoint.
	const cutAt = Math.floor((image.length * 0.4) / SECTOR) * SECTOR + 3000;
	return {clean: install(image), resumed: install(image, cutAt)};
}
