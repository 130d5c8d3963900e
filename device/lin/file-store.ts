/*
 * KeyValueStore of the lin build: $RMX_FLASH_DIR/nvs.json, the node's own file (the host simulator
 * keeps its state in the same file of the same flash directory), replaced atomically on every
 * change as an NVS commit is; each value keeps its NVS type (rainmaker/stored-value.ts, the host
 * simulator's format). Moddable's lin `preference` module is not used: it is preloaded with
 * the modules that import it, so its cache is frozen at link time and every save throws, and its
 * file in /tmp is shared by every Moddable app on the machine. The NVS limits (15-character keys,
 * each integer type's range, 4000-byte strings) are checked as on the device.
 */
import type {KeyValueStore, StoredValue} from "../../rainmaker/ports";
import {checkKey, checkValue, fromJson, MAX_KEY_LENGTH, MAX_VALUE_BYTES, toJson} from "../../rainmaker/stored-value";
import {readNodeFile, writeNodeFile} from "./flash";

export {MAX_KEY_LENGTH, MAX_VALUE_BYTES};
export const STORE_FILE = "nvs.json";

/** The file's I/O; the default is the FFI of native/otaplat_lin.c. */
export interface NodeFiles {
	read(name: string): string | undefined;
	write(name: string, text: string): void;
}

const ffiFiles: NodeFiles = {
	read: name => readNodeFile(name),
	write: (name, text) => writeNodeFile(name, text),
};

export class FileStore implements KeyValueStore {
	readonly #values = new Map<string, StoredValue>();
	readonly #files: NodeFiles;
	readonly #name: string;

	constructor(files: NodeFiles = ffiFiles, name = STORE_FILE) {
		this.#files = files;
		this.#name = name;
		const text = files.read(name);
		if (text === undefined) return;
		let data: unknown;
		try {
			data = JSON.parse(text);
		} catch (error) {
			throw new Error(`${name} is not JSON: ${error instanceof Error ? error.message : String(error)}`, {
				cause: error,
			});
		}
		if (typeof data !== "object" || data === null || Array.isArray(data))
			throw new Error(`${name} must hold an object`);
		for (const [key, json] of Object.entries(data as {[key: string]: unknown})) {
			const value = fromJson(json);
			if (value) this.#values.set(key, value);
		}
	}

	get(key: string): StoredValue | undefined {
		checkKey(key);
		return this.#values.get(key);
	}

	set(key: string, value: StoredValue): void {
		checkKey(key);
		checkValue(key, value);
		this.#values.set(key, value.type === "blob" ? {type: "blob", value: value.value.slice()} : value);
		this.#save();
	}

	delete(key: string): void {
		checkKey(key);
		if (this.#values.delete(key)) this.#save();
	}

	#save(): void {
		const data: {[key: string]: unknown} = {};
		this.#values.forEach((value, key) => {
			data[key] = toJson(value);
		});
		this.#files.write(this.#name, JSON.stringify(data));
	}
}
