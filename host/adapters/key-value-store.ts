/*
 * KeyValueStore port on the host: in memory, or in a JSON file that survives a restart of the
 * simulated node (written atomically: a kill mid-write leaves the old or the new file, like NVS).
 * Keys follow the device's NVS limit of 15 characters, so host tests catch a key the device refuses.
 */
import {existsSync, readFileSync, renameSync, writeFileSync} from "node:fs";
import type {KeyValueStore} from "../../rainmaker/ports";

export const MAX_KEY_LENGTH = 15;

type Value = string | number | boolean;

function checkKey(key: string): void {
	if (key.length === 0 || key.length > MAX_KEY_LENGTH)
		throw new Error(`key-value store: key "${key}" must be 1..${MAX_KEY_LENGTH} characters (NVS limit)`);
}

export class MemoryStore implements KeyValueStore {
	protected values = new Map<string, Value>();

	get(key: string): Value | undefined {
		checkKey(key);
		return this.values.get(key);
	}

	set(key: string, value: Value): void {
		checkKey(key);
		if (typeof value === "number" && !Number.isInteger(value))
			throw new Error(`key-value store: ${key}: float unsupported (as on the device)`);
		this.values.set(key, value);
		this.changed();
	}

	delete(key: string): void {
		checkKey(key);
		if (this.values.delete(key))
			this.changed();
	}

	/** A copy of every entry (for tests and the simulator's status). */
	entries(): {[key: string]: Value} {
		return Object.fromEntries(this.values);
	}

	protected changed(): void {}
}

export class JsonFileStore extends MemoryStore {
	readonly path: string;

	constructor(path: string) {
		super();
		this.path = path;
		if (existsSync(path)) {
			const data: unknown = JSON.parse(readFileSync(path, "utf8"));
			if (typeof data === "object" && data !== null)
				for (const [key, value] of Object.entries(data))
					if (typeof value === "string" || typeof value === "number" || typeof value === "boolean")
						this.values.set(key, value);
		}
	}

	protected override changed(): void {
		const temporary = this.path + ".tmp";
		writeFileSync(temporary, JSON.stringify(Object.fromEntries(this.values)));
		renameSync(temporary, this.path);
	}
}
