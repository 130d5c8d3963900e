/*
 * The simulated eFuses (chip and anti-rollback secure version) as a small JSON text, for example
 * {"chip": "esp32", "secureVersion": 0}. Platform neutral: the host simulator and the lin build
 * read the same `<flash file>.efuse.json`.
 */
import {CHIP_IDS} from "../ota/image";
import type {Efuse} from "./flash-device";

export const DEFAULT_EFUSE: Readonly<Efuse> = Object.freeze({chipId: CHIP_IDS.esp32, secureVersion: 0});

/** Parses the eFuse JSON text; `where` names the file in errors. */
export function parseEfuse(text: string, where: string): Efuse {
	let doc: unknown;
	try {
		doc = JSON.parse(text);
	}
	catch (error) {
		throw new Error("eFuse file " + where + " is not JSON: " + (error as Error).message);
	}
	if (typeof doc !== "object" || doc === null || Array.isArray(doc))
		throw new Error("eFuse file " + where + " must hold an object");
	const fields = doc as {chip?: unknown; secureVersion?: unknown};
	const efuse: Efuse = {...DEFAULT_EFUSE};
	if (fields.chip !== undefined) {
		if (typeof fields.chip !== "string" || !Object.prototype.hasOwnProperty.call(CHIP_IDS, fields.chip))
			throw new Error("eFuse file " + where + ": unknown chip " + JSON.stringify(fields.chip) + " (one of " + Object.keys(CHIP_IDS).join(", ") + ")");
		efuse.chipId = CHIP_IDS[fields.chip];
	}
	if (fields.secureVersion !== undefined) {
		const v = fields.secureVersion;
		if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 32)
			throw new Error("eFuse file " + where + ": secureVersion must be an integer 0..32");
		efuse.secureVersion = v;
	}
	return efuse;
}
