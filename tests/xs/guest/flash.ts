/*
 * UpdatePartition and BootControl inside XS: stand-ins for what cannot exist on a PC (flash,
 * bootloader, esp_ota_*). Every call goes to the Node side, which counts, digests and verifies
 * the written image the way esp_ota_end does, from the bytes XS passed; no image byte stays in XS.
 */
import type {BootControl, ImageState, UpdatePartition} from "../../../ota/ports";
import {call} from "./bridge";

/** Test hook: the n-th write (0-based) of the next attempt gets its first byte flipped inside XS; -1 = none. */
let corruptWrite = -1;

export function corruptNextAttempt(writeIndex: number): void {
	corruptWrite = writeIndex;
}

export class BridgedPartition implements UpdatePartition {
	readonly capacity: number;
	#writes = 0;

	constructor() {
		this.capacity = Number(call("partition", "capacity").value);
	}

	begin(resumeAt: number): number {
		this.#writes = 0;
		return Number(call("partition", "begin", [resumeAt]).value);
	}

	/** The bytes XS hands over travel in the frame (not by reference): Node writes and verifies exactly those. */
	write(chunk: Uint8Array): void {
		if (this.#writes++ === corruptWrite) {
			corruptWrite = -1;
			chunk[0] ^= 0xff;
		}
		call("partition", "write", [], chunk, true);
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

	chipRevision(): number {
		return Number(call("boot", "chipRevision").value);
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
