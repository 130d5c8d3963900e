/*
 * The simulated eFuses (chip, chip revision and anti-rollback secure version) as a small JSON text,
 * for example {"chip": "esp32", "chipRevision": "v3.0", "secureVersion": 0}. Platform neutral: the host simulator and the lin build
 * read the same `<flash file>.efuse.json`.
 */
import {CHIP_IDS} from "../ota/image";
import type {Efuse} from "./flash-device";

/** Chip revision of a simulated device when the file names none: v0.0, which every image's range admits. */
export const DEFAULT_EFUSE: Readonly<Efuse> = Object.freeze({
	chipId: CHIP_IDS.esp32,
	chipRevision: 0,
	secureVersion: 0,
});

/** Parses the eFuse JSON text; `where` names the file in errors. */
export function parseEfuse(text: string, where: string): Efuse {
	let doc: unknown;
	try {
		doc = JSON.parse(text);
	} catch (error) {
		throw new Error("eFuse file " + where + " is not JSON: " + (error as Error).message, {cause: error});
	}
	if (typeof doc !== "object" || doc === null || Array.isArray(doc))
		throw new Error("eFuse file " + where + " must hold an object");
	const fields = doc as {chip?: unknown; chipRevision?: unknown; secureVersion?: unknown};
	const efuse: Efuse = {...DEFAULT_EFUSE};
	if (fields.chip !== undefined) {
		if (typeof fields.chip !== "string" || !Object.prototype.hasOwnProperty.call(CHIP_IDS, fields.chip))
			throw new Error(
				"eFuse file " +
					where +
					": unknown chip " +
					JSON.stringify(fields.chip) +
					" (one of " +
					Object.keys(CHIP_IDS).join(", ") +
					")",
			);
		efuse.chipId = CHIP_IDS[fields.chip];
	}
	if (fields.chipRevision !== undefined) {
		const match =
			typeof fields.chipRevision === "string" ? /^v(\d{1,2})\.(\d{1,2})$/.exec(fields.chipRevision) : null;
		if (!match)
			throw new Error(
				"eFuse file " +
					where +
					': chipRevision must be a revision like "v3.1", got ' +
					JSON.stringify(fields.chipRevision),
			);
		efuse.chipRevision = Number(match[1]) * 100 + Number(match[2]);
	}
	if (fields.secureVersion !== undefined) {
		const v = fields.secureVersion;
		if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 32)
			throw new Error("eFuse file " + where + ": secureVersion must be an integer 0..32");
		efuse.secureVersion = v;
	}
	return efuse;
}
