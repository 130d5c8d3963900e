/*
 * KeyValueStore of the lin build: $RMX_FLASH_DIR/nvs.json, the node's own file (the host simulator
 * keeps its state in the same file of the same flash directory), replaced atomically on every
 * change as an NVS commit is. Moddable's lin `preference` module is not used: it is preloaded with
 * the modules that import it, so its cache is frozen at link time and every save throws, and its
 * file in /tmp is shared by every Moddable app on the machine. The NVS limits (15-character keys,
 * 32-bit integers, 4000-byte strings) are checked as on the device.
 */
import type {KeyValueStore} from "../../rainmaker/ports";
import {utf8Length} from "../../rainmaker/utf8";
import {readNodeFile, writeNodeFile} from "./flash";

export const MAX_KEY_LENGTH = 15;
export const MAX_VALUE_BYTES = 4000;
export const STORE_FILE = "nvs.json";

type Value = string | number | boolean;

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
	readonly #values = new Map<string, Value>();
	readonly #files: NodeFiles;
	readonly #name: string;

	constructor(files: NodeFiles = ffiFiles, name = STORE_FILE) {
		this.#files = files;
		this.#name = name;
		const text = files.read(name);
		if (text === undefined)
			return;
		let data: unknown;
		try {
			data = JSON.parse(text);
		}
		catch (error) {
			throw new Error(`${name} is not JSON: ${error instanceof Error ? error.message : String(error)}`);
		}
		if (typeof data !== "object" || data === null || Array.isArray(data))
			throw new Error(`${name} must hold an object`);
		for (const [key, value] of Object.entries(data as {[key: string]: unknown})) {
			if (typeof value === "string" || typeof value === "number" || typeof value === "boolean")
				this.#values.set(key, value);
		}
	}

	get(key: string): Value | undefined {
		checkKey(key);
		return this.#values.get(key);
	}

	set(key: string, value: Value): void {
		checkKey(key);
		if (typeof value === "number" && !(Number.isInteger(value) && value >= -0x80000000 && value <= 0x7FFFFFFF))
			throw new Error(`key-value store: ${key}: ${value} is not a 32-bit integer (NVS stores i32)`);
		if (typeof value === "string" && utf8Length(value) > MAX_VALUE_BYTES)
			throw new Error(`key-value store: ${key}: value longer than ${MAX_VALUE_BYTES} bytes`);
		if (typeof value !== "string" && typeof value !== "number" && typeof value !== "boolean")
			throw new Error(`key-value store: ${key}: unsupported value type ${typeof value}`);
		this.#values.set(key, value);
		this.#save();
	}

	delete(key: string): void {
		checkKey(key);
		if (this.#values.delete(key))
			this.#save();
	}

	#save(): void {
		const data: {[key: string]: Value} = {};
		this.#values.forEach((value, key) => {
			data[key] = value;
		});
		this.#files.write(this.#name, JSON.stringify(data));
	}
}

function checkKey(key: string): void {
	if (typeof key !== "string" || key.length === 0 || key.length > MAX_KEY_LENGTH)
		throw new Error(`key-value store: key "${String(key)}" must be 1..${MAX_KEY_LENGTH} characters (NVS limit)`);
}
