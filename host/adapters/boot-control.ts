/* The BootControl port on a host device: platform neutral, in idf/boot-control.ts; here with Node's digests by default. */
import {FlashBootControl, type BootControlHooks} from "../../idf/boot-control";
import type {BootResult} from "../../idf/bootloader";
import type {DigestFactory} from "../../ota/ports";
import {createDigest as nodeDigest} from "./digest";
import type {HostDevice} from "./host-device";

export type {BootControlHooks, RestartReason} from "../../idf/boot-control";

export class HostBootControl extends FlashBootControl {
	constructor(
		device: HostDevice,
		booted: BootResult,
		hooks: BootControlHooks,
		createDigest: DigestFactory = nodeDigest,
	) {
		super(device, booted, hooks, createDigest);
	}
}
