/*
 * The Node end of the UpdatePartition stand-in: the inactive slot as esp_ota_* treats it, but
 * holding no bytes. It counts, digests (SHA-256 of everything written) and verifies the image
 * as it streams by (ImageVerifier, as esp_ota_end verifies the slot), so a 4 MB image costs no
 * memory here either. It cannot keep bytes for a resume, so begin() always answers 0.
 */
import {createHash, type Hash} from "node:crypto";
import {createDigest} from "../../../host/adapters/digest";
import {ImageVerifier} from "../../../idf/image-verifier";
import {ImageInvalidError} from "../../../ota/outcome";

export interface CountingPartitionOptions {
	readonly capacity: number;
	/** Verify the image at end() (default true); the benchmarks stream unverifiable filler. */
	readonly verify?: boolean;
}

export class CountingPartition {
	readonly capacity: number;
	readonly #verify: boolean;
	#open = false;
	#written = 0;
	#writes = 0;
	#hash: Hash | undefined;
	#verifier: ImageVerifier | undefined;
	/** SHA-256 (hex) of the bytes of the last attempt that reached end() successfully. */
	sha256: string | undefined;
	/** Calls, in order: "begin", "end", "abort" (writes are counted, not listed). */
	readonly calls: string[] = [];

	constructor(options: CountingPartitionOptions) {
		this.capacity = options.capacity;
		this.#verify = options.verify ?? true;
	}

	get written(): number {
		return this.#written;
	}

	/** write() calls of the current (or last) attempt. */
	get writes(): number {
		return this.#writes;
	}

	begin(_resumeAt: number): number {
		this.calls.push("begin");
		this.#open = true;
		this.#written = 0;
		this.#writes = 0;
		this.#hash = createHash("sha256");
		this.#verifier = this.#verify ? new ImageVerifier(createDigest, {capacity: this.capacity}) : undefined;
		return 0;
	}

	write(chunk: Uint8Array): void {
		if (!this.#open) throw new Error("ESP_ERR_INVALID_ARG (write without begin)");
		if (this.#written + chunk.length > this.capacity)
			throw new Error(`ESP_ERR_INVALID_SIZE (write past the slot's end at ${this.capacity} bytes)`);
		this.#written += chunk.length;
		this.#writes++;
		this.#hash!.update(chunk);
		this.#verifier?.write(chunk);
	}

	end(): void {
		this.calls.push("end");
		if (!this.#open) throw new Error("ESP_ERR_NOT_FOUND (end without begin)");
		this.#open = false;
		const verdict = this.#verifier?.end();
		if (verdict && !verdict.valid) throw new ImageInvalidError(verdict.reason ?? "invalid image");
		this.sha256 = this.#hash!.digest("hex");
	}

	abort(): void {
		this.calls.push("abort");
		this.#open = false;
	}
}
