/* "ecdsa" of the Moddable SDK 8.2.3 (modules/crypt), untyped in the SDK; used by device/tls/ (types/ssl/README.md). */
declare module "ecdsa" {
	import type Curve from "curve";
	export default class ECDSA {
		constructor(key: bigint, curve: Curve);
		/** An ECDSA signature of the digest H: DER ECDSA-Sig-Value with asn1 true, r || s otherwise. */
		sign(H: ArrayBuffer, asn1?: boolean): ArrayBuffer;
	}
}
