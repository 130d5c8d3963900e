/*
 * The small ports inside XS: Log (lines kept on the Node side), the key-value store (NVS
 * stand-in on the Node side) and Digest (native on the device, so native here too: node:crypto
 * on the Node side; only the calls cost XS time, as the crypt module's calls do on the device).
 */
import type {KeyValueStore, Log, StoredValue} from "../../../rainmaker/ports";
import {fromJson, toJson} from "../../../rainmaker/stored-value";
import type {Digest, DigestFactory} from "../../../ota/ports";
import {call} from "./bridge";

export class BridgedLog implements Log {
	info(message: string): void {
		call("log", "info", [message]);
	}

	warn(message: string): void {
		call("log", "warn", [message]);
	}

	error(message: string): void {
		call("log", "error", [message]);
	}
}

export class BridgedStore implements KeyValueStore {
	get(key: string): StoredValue | undefined {
		const {value} = call("store", "get", [key]);
		return value === null ? undefined : fromJson(value);
	}

	set(key: string, value: StoredValue): void {
		call("store", "set", [key, toJson(value)]);
	}

	delete(key: string): void {
		call("store", "delete", [key]);
	}
}

class BridgedDigest implements Digest {
	readonly #id: number;

	constructor(id: number) {
		this.#id = id;
	}

	write(chunk: Uint8Array): void {
		call("digest", "write", [this.#id], chunk);
	}

	close(): Uint8Array {
		return call("digest", "close", [this.#id]).bytes.slice();
	}
}

export const createBridgedDigest: DigestFactory = algorithm =>
	new BridgedDigest(Number(call("digest", "create", [algorithm]).value));
