/*
 * Power loss at every flash operation of an update (write, switch, first boot, confirmation), with
 * the interrupted operation torn half-way: the device must always boot a valid image, old or new.
 */
import assert from "node:assert/strict";
import {copyFileSync} from "node:fs";
import {join} from "node:path";
import {createDigest} from "../../host/adapters/digest";
import {FlashBootControl} from "../../idf/boot-control";
import {boot, provision} from "../../idf/bootloader";
import {FileFlash, SECTOR_SIZE} from "../../host/adapters/flash";
import {FlashUpdatePartition} from "../../idf/update-partition";
import {fixtureCopy} from "../support/image-fixtures";
import {tempDevice, type TempDevice} from "../support/host-device";

class PowerLoss extends Error {}

/** A flash that dies at its `budget`-th erase or write, leaving that operation half done. */
class DyingFlash extends FileFlash {
	#budget: number;
	constructor(path: string, budget: number) {
		super(path, {sync: false});
		this.#budget = budget;
	}
	override erase(offset: number, length: number): void {
		if (this.#budget-- > 0) return super.erase(offset, length);
		if (length > SECTOR_SIZE)
			super.erase(offset, Math.floor(length / SECTOR_SIZE / 2) * SECTOR_SIZE || SECTOR_SIZE);
		else {
			// Half of the sector erased, the other half still old.
			const half = SECTOR_SIZE / 2;
			const old = this.read(offset + half, half);
			super.erase(offset, SECTOR_SIZE);
			super.write(offset + half, old);
		}
		throw new PowerLoss("power lost during erase");
	}
	override write(offset: number, data: Uint8Array): void {
		if (this.#budget-- > 0) return super.write(offset, data);
		super.write(offset, data.subarray(0, data.length >> 1));
		throw new PowerLoss("power lost during write");
	}
}

describe("power loss during an update", function () {
	this.timeout(120000);
	let temp: TempDevice;
	let template: string;
	before(() => {
		temp = tempDevice();
		const device = temp.open();
		provision(device, fixtureCopy("synthetic/app-1.0.0.bin"));
		boot(device, createDigest);
		device.close();
		template = join(temp.dir, "template.bin");
		copyFileSync(temp.flashFile, template);
	});
	after(() => temp.dispose());

	it("always leaves a bootable valid image, old or new, and completes without loss", () => {
		const image = fixtureCopy("synthetic/app-2.0.0.bin");
		const outcomes = new Map<string, number>();
		let completed = false;
		for (let budget = 0; !completed; budget++) {
			assert.ok(budget < 500, "the scenario should end");
			copyFileSync(template, temp.flashFile);
			const dying = temp.open(path => new DyingFlash(path, budget));
			let stage = "boot";
			try {
				const running = boot(dying, createDigest);
				stage = "write";
				const update = new FlashUpdatePartition(dying, running.slot, createDigest);
				update.begin(0);
				for (let at = 0; at < image.length; at += 4096) update.write(image.subarray(at, at + 4096));
				stage = "switch";
				update.end();
				stage = "first boot";
				const fresh = boot(dying, createDigest);
				assert.equal(fresh.state, "pending-verify");
				stage = "confirm";
				new FlashBootControl(dying, fresh, {restart: () => undefined}, createDigest).markValid();
				completed = true;
			} catch (error) {
				if (!(error instanceof PowerLoss)) throw error;
			}
			dying.close();
			// Power back on, twice (the second boot sees what the first one's bootloader wrote).
			const device = temp.open();
			for (let i = 0; i < 2; i++) {
				const booted = boot(device, createDigest);
				assert.ok(booted.info.version === "1.0.0" || booted.info.version === "2.0.0", booted.info.version);
				if (completed) {
					assert.equal(booted.info.version, "2.0.0");
					assert.equal(booted.state, "valid");
				}
				const key = stage + " → " + booted.info.version;
				outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
			}
			device.close();
		}
		// Cuts before the switch keep the old image; cuts after it may bring up either.
		assert.ok(outcomes.get("write → 1.0.0"), JSON.stringify([...outcomes]));
		assert.equal(outcomes.get("write → 2.0.0"), undefined, JSON.stringify([...outcomes]));
		assert.ok((outcomes.get("confirm → 2.0.0") ?? 0) + (outcomes.get("confirm → 1.0.0") ?? 0) > 0);
	});
});
