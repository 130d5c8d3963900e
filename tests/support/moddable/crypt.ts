/*
 * Stand-in of Moddable's "crypt" Digest (modules/crypt/digest/crypt.js) on node:crypto: names
 * MD5/SHA1/SHA224/SHA256/SHA384/SHA512, write/update of a string (UTF-8) or any buffer, close()
 * returns an ArrayBuffer, write after close throws as modCrypt.c does.
 */
import {createHash, type Hash} from "node:crypto";

const names: {[name: string]: string} = {
	MD5: "md5",
	SHA1: "sha1",
	SHA224: "sha224",
	SHA256: "sha256",
	SHA384: "sha384",
	SHA512: "sha512",
};

export class Digest {
	#hash: Hash | undefined;

	constructor(type: string) {
		const name = names[type];
		if (!name) throw new Error("crypt: unsupported digest");
		this.#hash = createHash(name);
	}

	write(message: string | ArrayBuffer | ArrayBufferView): void {
		if (!this.#hash) throw new Error("crypt: can't call digest write after close");
		if (typeof message === "string") this.#hash.update(message, "utf8");
		else if (message instanceof ArrayBuffer) this.#hash.update(new Uint8Array(message));
		else this.#hash.update(new Uint8Array(message.buffer, message.byteOffset, message.byteLength));
	}

	update(message: string | ArrayBuffer | ArrayBufferView): void {
		this.write(message);
	}

	close(): ArrayBuffer {
		if (!this.#hash) throw new Error("crypt: can't call digest close after close");
		const digest = this.#hash.digest();
		this.#hash = undefined;
		return digest.buffer.slice(digest.byteOffset, digest.byteOffset + digest.byteLength) as ArrayBuffer;
	}
}
