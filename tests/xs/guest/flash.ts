/*
 * UpdatePartition and BootControl inside XS: stand-ins for what cannot exist on a PC (flash,
 * bootloader, esp_ota_*). Every call goes to the Node side, which counts, digests and verifies
 * the written image the way esp_ota_end does; no image byte stays in XS.
 */
import type {BootControl, ImageState, UpdatePartition} from "../../../ota/ports";
import {call} from "./bridge";

export class BridgedPartition implements UpdatePartition {
	readonly capacity: number;

	constructor() {
		this.capacity = Number(call("partition", "capacity").value);
	}

	begin(resumeAt: number): number {
		return Number(call("partition", "begin", [resumeAt]).value);
	}

	write(chunk: Uint8Array): void {
		call("partition", "write", [], chunk);
	}

	get written(): number {
		return Number(call("partition", "written").value);
	}

	end(): void {
		call("partition", "end");
	}

	abort(): void {
		call("partition", "abort");
	}
}

export class BridgedBoot implements BootControl {
	runningState(): ImageState {
		return call("boot", "runningState").value as ImageState;
	}

	runningHeader(): Uint8Array {
		return call("boot", "runningHeader").bytes.slice();
	}

	minSecureVersion(): number {
		return Number(call("boot", "minSecureVersion").value);
	}

	markValid(): void {
		call("boot", "markValid");
	}

	rollback(): void {
		call("boot", "rollback");
	}

	restart(): void {
		call("boot", "restart");
	}
}
