/*
 * The simulated eFuses of a host device: which chip it is and the anti-rollback secure version
 * (the popcount of the SECURE_VERSION field, 0 when never burned). A small JSON file next to the
 * flash file, `<flash file>.efuse.json`, e.g. {"chip": "esp32", "chipRevision": "v3.0", "secureVersion": 0}; absent = defaults.
 * The format is parsed by idf/efuse.ts (the lin build reads the same file).
 */
import {existsSync, readFileSync, writeFileSync} from "node:fs";
import {DEFAULT_EFUSE, parseEfuse} from "../../idf/efuse";
import type {Efuse} from "../../idf/flash-device";

export type {Efuse} from "../../idf/flash-device";
export {DEFAULT_EFUSE} from "../../idf/efuse";

export function efusePath(flashPath: string): string {
	return flashPath + ".efuse.json";
}

/** Reads the eFuse file of a flash file; throws a clear Error when it exists but is malformed. */
export function readEfuse(flashPath: string): Efuse {
	const path = efusePath(flashPath);
	if (!existsSync(path)) return {...DEFAULT_EFUSE};
	return parseEfuse(readFileSync(path, "utf8"), path);
}

export function writeEfuse(
	flashPath: string,
	efuse: {chip?: string; chipRevision?: string; secureVersion?: number},
): void {
	writeFileSync(efusePath(flashPath), JSON.stringify(efuse) + "\n");
}
