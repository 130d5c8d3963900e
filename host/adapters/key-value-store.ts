/*
 * KeyValueStore port on the host: in memory, or in a JSON file that survives a restart of the
 * simulated node (written atomically: a kill mid-write leaves the old or the new file, like NVS).
 * Each value keeps its NVS type (rainmaker/ports.ts StoredValue) and NVS's limits
 * (rainmaker/stored-value.ts), so host tests catch a key or value the device refuses. The file is
 * the lin build's format too (device/lin/file-store.ts).
 */
import {existsSync, readFileSync, renameSync, writeFileSync} from "node:fs";
import type {KeyValueStore, StoredValue} from "../../rainmaker/ports";
import {checkKey, checkValue, fromJson, MAX_KEY_LENGTH, toJson} from "../../rainmaker/stored-value";

export {MAX_KEY_LENGTH};

export class MemoryStore implements KeyValueStore {
	protected values = new Map<string, StoredValue>();

	get(key: string): StoredValue | undefined {
		checkKey(key);
		return this.values.get(key);
	}

	set(key: string, value: StoredValue): void {
		checkKey(key);
		checkValue(key, value);
		this.values.set(key, value.type === "blob" ? {type: "blob", value: value.value.slice()} : value);
		this.changed();
	}

	delete(key: string): void {
		checkKey(key);
		if (this.values.delete(key)) this.changed();
	}

	/** A copy of every entry (for tests and the simulator's status). */
	entries(): {[key: string]: StoredValue} {
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
				for (const [key, json] of Object.entries(data)) {
					const value = fromJson(json);
					if (value) this.values.set(key, value);
				}
		}
	}

	protected override changed(): void {
		const temporary = this.path + ".tmp";
		const data: {[key: string]: unknown} = {};
		for (const [key, value] of this.values) data[key] = toJson(value);
		writeFileSync(temporary, JSON.stringify(data));
		renameSync(temporary, this.path);
	}
}
