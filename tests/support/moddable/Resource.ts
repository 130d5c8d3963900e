/*
 * Stand-in of Moddable's "Resource" (modules/files/resource): read-only data linked into the
 * firmware, here a map that tests fill with `resources.set(name, bytes)`.
 */
import {sharedState} from "./stand-in-state";
export const resources = sharedState("resources", () => new Map<string, Uint8Array>());

export default class Resource {
	readonly #bytes: Uint8Array;

	constructor(path: string) {
		const bytes = resources.get(path);
		if (!bytes) throw new Error("Resource not found");
		this.#bytes = bytes;
	}

	static exists(path: string): boolean {
		return resources.has(path);
	}

	get byteLength(): number {
		return this.#bytes.byteLength;
	}

	slice(begin: number, end?: number): ArrayBuffer {
		return this.#bytes.slice(begin, end).buffer;
	}
}
