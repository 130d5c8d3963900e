/*
 * The UpdatePartition contract (ota/ports.ts, esp_ota_* semantics), for every adapter: begin opens
 * the slot, writes append, end verifies the whole image and only then switches the boot choice; an
 * image that does not verify throws ImageInvalidError (ota/outcome.ts: the engine reports it as the
 * image's fault, "Image validation failed") and keeps the boot choice; abort keeps it too; a
 * resume keeps the bytes below a sector-aligned offset or starts over at 0; nothing is written past
 * the slot.
 */
import {strict as assert} from "node:assert";
import {ImageInvalidError} from "../../../ota/outcome";
import type {UpdatePartition} from "../../../ota/ports";
import {fixtureBytes, withByte} from "../image-fixtures";

const SECTOR = 4096;

export interface UpdatePartitionChip {
	readonly partition: UpdatePartition;
	/** True once the update slot is the boot choice (the otadata switch of esp_ota_set_boot_partition). */
	switched(): boolean;
}

export interface UpdatePartitionSubject {
	/** A chip running synthetic/app-1.0.0.bin, confirmed, with an empty update slot. */
	open(): UpdatePartitionChip;
	dispose?(): void;
}

function writeAll(partition: UpdatePartition, image: Uint8Array, size = 1500): void {
	for (let offset = 0; offset < image.length; offset += size) partition.write(image.subarray(offset, offset + size));
}

export function updatePartitionContract(name: string, subject: () => Promise<UpdatePartitionSubject>): void {
	describe(`UpdatePartition contract (ota/ports.ts): ${name}`, () => {
		const next = new Uint8Array(fixtureBytes("synthetic/app-1.1.0.bin"));
		let s: UpdatePartitionSubject;
		let chip: UpdatePartitionChip;
		beforeEach(async () => {
			s = await subject();
			chip = s.open();
		});
		afterEach(() => s.dispose?.());

		it("begin(0) opens the slot at 0; writes append; nothing switches before end(), which verifies and switches", () => {
			const {partition} = chip;
			assert.ok(partition.capacity >= next.length, `capacity ${partition.capacity}`);
			assert.equal(partition.begin(0), 0);
			assert.equal(partition.written, 0);
			writeAll(partition, next);
			assert.equal(partition.written, next.length);
			assert.equal(chip.switched(), false, "no switch before end()");
			partition.end();
			assert.equal(chip.switched(), true);
		});

		it("an image that does not verify: end() throws ImageInvalidError and keeps the boot choice; a new attempt can begin", () => {
			const {partition} = chip;
			partition.begin(0);
			writeAll(partition, withByte(next, 600, next[600] ^ 0xff));
			assert.throws(
				() => partition.end(),
				// By name: device code loaded through the stand-ins' loader has its own instance of ota/outcome.ts.
				(error: unknown) =>
					error instanceof Error &&
					error.name === new ImageInvalidError("").name &&
					/^Image validation failed: /.test(error.message),
			);
			assert.equal(chip.switched(), false);
			assert.equal(partition.begin(0), 0);
			writeAll(partition, next);
			partition.end();
			assert.equal(chip.switched(), true);
		});

		it("write or end without begin throws; abort() keeps the boot choice and closes the slot", () => {
			const {partition} = chip;
			assert.throws(() => partition.write(next.subarray(0, 16)), Error);
			assert.throws(() => partition.end(), Error);
			partition.begin(0);
			writeAll(partition, next);
			partition.abort();
			assert.equal(chip.switched(), false);
			assert.throws(() => partition.end(), Error);
			partition.abort(); // twice: harmless
		});

		it("refuses bytes past the slot's end with an Error, before writing them", () => {
			const {partition} = chip;
			partition.begin(0);
			partition.write(next);
			const filler = new Uint8Array(64 * SECTOR);
			while (partition.written < partition.capacity)
				partition.write(filler.subarray(0, Math.min(filler.length, partition.capacity - partition.written)));
			assert.throws(() => partition.write(Uint8Array.of(0)), Error);
			assert.equal(partition.written, partition.capacity);
		});

		it("begin(resumeAt) at a sector boundary keeps the bytes below it (or starts over at 0); the image then completes", () => {
			const {partition} = chip;
			partition.begin(0);
			writeAll(partition, next.subarray(0, 3 * SECTOR + 100));
			partition.abort();
			const at = partition.begin(2 * SECTOR);
			assert.ok(at === 0 || at === 2 * SECTOR, `begin returned ${at}`);
			assert.equal(partition.written, at);
			if (at > 0 && partition.read) {
				const kept = new Uint8Array(at);
				partition.read(0, kept);
				assert.deepEqual(kept, next.subarray(0, at), "read gives the kept bytes back");
			}
			writeAll(partition, next.subarray(at));
			partition.end();
			assert.equal(chip.switched(), true);
		});

		it("begin(resumeAt) off a sector boundary starts over at 0", () => {
			const {partition} = chip;
			partition.begin(0);
			writeAll(partition, next.subarray(0, 3 * SECTOR));
			partition.abort();
			assert.equal(partition.begin(1000), 0);
			assert.equal(partition.written, 0);
		});
	});
}
