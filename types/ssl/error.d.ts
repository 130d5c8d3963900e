/* "ssl/error" of the Moddable SDK 8.2.3 (modules/crypt), untyped in the SDK; used by device/tls/ (types/ssl/README.md). */
declare module "ssl/error" {
	export default class TLSError extends Error {}
}
