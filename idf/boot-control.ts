/*
 * The BootControl port on a simulated flash (host simulator and lin build): the running slot's state from otadata
 * (esp_ota_get_state_partition), its header, the eFuse secure version, and ESP-IDF's
 * esp_ota_mark_app_valid_cancel_rollback / esp_ota_mark_app_invalid_rollback_and_reboot, which
 * rewrite the ACTIVE otadata entry in place. A restart goes to a hook: the simulator ends the node
 * process with its "reboot" exit code and starts it again through the bootloader.
 */
import {chipName} from "../ota/image";
import type {BootControl, DigestFactory, ImageState} from "../ota/ports";
import type {BootResult} from "./bootloader";
import type {FlashDevice} from "./flash-device";
import {OtaImgState, activeOtadata, entryValid, imageStateName, selectOtadata, slotOfSeq} from "./otadata";
import {readSlotHeader, verifySlotImage} from "./slot-image";

export type RestartReason = "restart" | "rollback";

export interface BootControlHooks {
	/** esp_restart: the simulator exits the process here; in tests it may record and return. */
	restart(reason: RestartReason): void;
}

export class FlashBootControl implements BootControl {
	readonly #device: FlashDevice;
	readonly #booted: BootResult;
	readonly #hooks: BootControlHooks;
	readonly #createDigest: DigestFactory;

	constructor(device: FlashDevice, booted: BootResult, hooks: BootControlHooks, createDigest: DigestFactory) {
		this.#device = device;
		this.#booted = booted;
		this.#hooks = hooks;
		this.#createDigest = createDigest;
	}

	runningState(): ImageState {
		const state = this.#device.otadata.stateOfSlot(this.#booted.slot, this.#device.slots.length);
		return state === undefined ? "undefined" : imageStateName(state);
	}

	runningSlot(): string {
		return this.#booted.label;
	}

	runningHeader(): Uint8Array {
		return readSlotHeader(this.#device.slot(this.#booted.slot));
	}

	chipRevision(): number {
		return this.#device.efuse.chipRevision;
	}

	minSecureVersion(): number {
		return this.#device.efuse.secureVersion;
	}

	markValid(): void {
		const otadata = this.#device.otadata;
		const entries = otadata.read();
		const active = activeOtadata(entries);
		if (active === -1)
			throw new Error(
				"esp_ota_mark_app_valid_cancel_rollback: no active otadata entry (running firmware is factory)",
			);
		if (entries[active].state !== OtaImgState.VALID) otadata.setActiveState(OtaImgState.VALID);
	}

	rollback(): void {
		const otadata = this.#device.otadata;
		if (activeOtadata(otadata.read()) === -1)
			throw new Error(
				"esp_ota_mark_app_invalid_rollback_and_reboot: no active otadata entry (running firmware is factory)",
			);
		if (!this.rollbackPossible())
			throw new Error("Rollback is not possible, do not have any suitable apps in slots");
		otadata.setActiveState(OtaImgState.INVALID);
		this.#hooks.restart("rollback");
	}

	restart(): void {
		this.#hooks.restart("restart");
	}

	/** esp_ota_get_state_partition of the next update slot ("undefined" when no otadata entry selects it). */
	updateSlotState(): ImageState {
		const slots = this.#device.slots.length;
		const state = this.#device.otadata.stateOfSlot((this.#booted.slot + 1) % slots, slots);
		return state === undefined ? "undefined" : imageStateName(state);
	}

	/** The IDF target: the chip the simulated eFuses name. */
	get platform(): string {
		return chipName(this.#device.efuse.chipId);
	}

	/** esp_ota_check_rollback_is_possible: the other otadata entry is valid and its slot holds a valid image. */
	rollbackPossible(): boolean {
		const entries = this.#device.otadata.read();
		const valid = [entryValid(entries[0]), entryValid(entries[1])];
		const active = selectOtadata(entries, valid, true);
		if (active === -1) return false;
		const last = active === 0 ? 1 : 0;
		if (!valid[last]) return false;
		const slot = slotOfSeq(entries[last].seq, this.#device.slots.length);
		return verifySlotImage(this.#device.slot(slot), this.#createDigest, this.#device.efuse.chipId).valid;
	}
}
