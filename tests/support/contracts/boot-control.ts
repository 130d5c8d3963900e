/*
 * The BootControl contract (ota/ports.ts), for every adapter: the running image's header, its
 * otadata state (a first boot after an update is pending-verify until markValid), the eFuse
 * secure version and chip revision, restart, a rollback that marks the running image invalid and
 * reboots (or is refused with an Error when no other image is valid), and the update slot's state.
 */
import {strict as assert} from "node:assert";
import {HEADER_PROBE_LENGTH, parseImageHeader} from "../../../ota/image";
import type {BootControl} from "../../../ota/ports";

export interface BootControlChip {
	readonly boot: BootControl;
	/** The running image's bytes. */
	readonly running: Uint8Array;
	/** The restarts asked for so far: "restart" or "rollback". */
	restarts(): string[];
}

export interface BootControlSubject {
	/**
	 * A chip on its first boot of synthetic/app-1.1.0.bin after an update from app-1.0.0.bin
	 * ("pending-verify", the old image still valid), or running app-1.0.0.bin alone, confirmed
	 * ("valid"); its eFuse secure version is `secureVersion`.
	 */
	open(state: "valid" | "pending-verify", secureVersion: number): BootControlChip;
	dispose?(): void;
}

export function bootControlContract(name: string, subject: () => Promise<BootControlSubject>): void {
	describe(`BootControl contract (ota/ports.ts): ${name}`, () => {
		let s: BootControlSubject;
		beforeEach(async () => {
			s = await subject();
		});
		afterEach(() => s.dispose?.());

		it("gives the running image's header, its state, the eFuse secure version and the chip revision", () => {
			const chip = s.open("valid", 2);
			const header = chip.boot.runningHeader();
			assert.ok(header.length >= HEADER_PROBE_LENGTH, `${header.length} bytes`);
			assert.deepEqual(header.subarray(0, HEADER_PROBE_LENGTH), chip.running.subarray(0, HEADER_PROBE_LENGTH));
			assert.equal(parseImageHeader(header).version, "1.0.0");
			assert.equal(chip.boot.runningState(), "valid");
			assert.equal(chip.boot.minSecureVersion(), 2);
			const revision = chip.boot.chipRevision();
			assert.ok(Number.isInteger(revision) && revision >= 0, `revision ${revision}`);
		});

		it("a first boot after an update is pending-verify until markValid()", () => {
			const chip = s.open("pending-verify", 0);
			assert.equal(parseImageHeader(chip.boot.runningHeader()).version, "1.1.0");
			assert.equal(chip.boot.runningState(), "pending-verify");
			chip.boot.markValid();
			assert.equal(chip.boot.runningState(), "valid");
			chip.boot.markValid(); // again: harmless
			assert.equal(chip.boot.runningState(), "valid");
			assert.deepEqual(chip.restarts(), []);
		});

		it("restart() asks for a restart", () => {
			const chip = s.open("valid", 0);
			chip.boot.restart();
			assert.deepEqual(chip.restarts(), ["restart"]);
		});

		it("rollback() marks the running image invalid and reboots into the old one", () => {
			const chip = s.open("pending-verify", 0);
			try {
				chip.boot.rollback();
			} catch {
				// a device's call does not return; a stand-in's returns and the adapter must not pretend it went on
			}
			assert.deepEqual(chip.restarts(), ["rollback"]);
			assert.equal(chip.boot.runningState(), "invalid");
		});

		it("rollback() with no other valid image is refused with an Error and nothing restarts", () => {
			const chip = s.open("valid", 0);
			assert.throws(() => chip.boot.rollback(), Error);
			assert.deepEqual(chip.restarts(), []);
			assert.equal(chip.boot.runningState(), "valid");
		});

		it("updateSlotState(): undefined when no otadata entry selects the update slot, the old image's state after an update", function () {
			const alone = s.open("valid", 0);
			if (!alone.boot.updateSlotState) return this.skip(); // optional in the port
			assert.equal(alone.boot.updateSlotState(), "undefined");
			s.dispose?.();
			const updated = s.open("pending-verify", 0);
			assert.equal(updated.boot.updateSlotState!(), "valid");
		});
	});
}
