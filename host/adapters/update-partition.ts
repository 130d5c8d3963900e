/* The UpdatePartition port on a host device: platform neutral, in idf/update-partition.ts; here with Node's digests by default. */
import {FlashUpdatePartition} from "../../idf/update-partition";
import type {DigestFactory} from "../../ota/ports";
import {createDigest as nodeDigest} from "./digest";
import type {HostDevice} from "./host-device";

export class HostUpdatePartition extends FlashUpdatePartition {
	constructor(device: HostDevice, runningSlot: number, createDigest: DigestFactory = nodeDigest) {
		super(device, runningSlot, createDigest);
	}
}
