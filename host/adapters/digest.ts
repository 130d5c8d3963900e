/*
 * The Digest port over node:crypto (the device uses Moddable's crypt Digest).
 */
import {createHash} from "node:crypto";
import type {Digest, DigestFactory} from "../../ota/ports";

export const createDigest: DigestFactory = algorithm => {
	const hash = createHash(algorithm === "SHA256" ? "sha256" : "md5");
	let closed = false;
	const digest: Digest = {
		write(chunk) {
			if (closed) throw new Error("Digest already closed");
			hash.update(chunk);
		},
		close() {
			if (closed) throw new Error("Digest already closed");
			closed = true;
			return new Uint8Array(hash.digest());
		},
	};
	return digest;
};
