/* DigestFactory port on Moddable's `crypt` Digest (portable kcl C code, the same on esp32 and lin). */
import {Digest as CryptDigest} from "crypt";
import type {Digest, DigestFactory} from "../ota/ports";

class CryptDigestAdapter implements Digest {
	#digest: CryptDigest | undefined;

	constructor(algorithm: "MD5" | "SHA256") {
		this.#digest = new CryptDigest(algorithm);
	}

	write(chunk: Uint8Array): void {
		const digest = this.#digest;
		if (!digest) throw new Error("digest already closed");
		// crypt's write takes an ArrayBuffer: pass the chunk's own buffer when it is exactly the chunk (no copy)
		if (
			chunk.byteOffset === 0 &&
			chunk.byteLength === chunk.buffer.byteLength &&
			chunk.buffer instanceof ArrayBuffer
		)
			digest.write(chunk.buffer);
		else digest.write(chunk.slice().buffer as ArrayBuffer);
	}

	close(): Uint8Array {
		const digest = this.#digest;
		if (!digest) throw new Error("digest already closed");
		this.#digest = undefined;
		return new Uint8Array(digest.close());
	}
}

export const createCryptDigest: DigestFactory = algorithm => {
	if (algorithm !== "MD5" && algorithm !== "SHA256") throw new Error(`unsupported digest ${String(algorithm)}`);
	return new CryptDigestAdapter(algorithm);
};
