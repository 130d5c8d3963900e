/* "crypt" Digest as in Moddable SDK 8.2.3 (modules/crypt/digest/crypt.js), missing from @moddable/typings 5.6.0. */
declare module "crypt" {
	export class Digest {
		constructor(type: "MD5" | "SHA1" | "SHA224" | "SHA256" | "SHA384" | "SHA512");
		write(message: string | ArrayBuffer): void;
		update(message: string | ArrayBuffer): void;
		close(): ArrayBuffer;
		reset(): void;
		get blockSize(): number;
		get outputSize(): number;
	}
}
