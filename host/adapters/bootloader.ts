/* The simulated bootloader: platform neutral, in idf/bootloader.ts; here with Node's digests by default. */
import {boot as bootFlash, type BootResult} from "../../idf/bootloader";
import type {DigestFactory} from "../../ota/ports";
import {createDigest as nodeDigest} from "./digest";
import type {HostDevice} from "./host-device";

export {NoBootableImageError, provision, type BootResult} from "../../idf/bootloader";

export function boot(device: HostDevice, createDigest: DigestFactory = nodeDigest): BootResult {
	return bootFlash(device, createDigest);
}
