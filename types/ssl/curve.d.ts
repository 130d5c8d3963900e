/* "curve" of the Moddable SDK 8.2.3 (modules/crypt), untyped in the SDK; used by device/tls/ (types/ssl/README.md). */
declare module "curve" {
	export default class Curve {
		constructor(name: "secp256r1" | "secp384r1");
	}
}
