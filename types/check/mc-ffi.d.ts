/* What mcconfig generates as mc.ffi.d.ts from manifest.json "ffi.functions" (native/otaplat_*.c). */
declare module "mc/ffi" {
	export default class FFI {
		constructor();
		otaplat_running_state(): number;
		otaplat_mark_valid(): number;
		otaplat_rollback(): number;
		otaplat_restart(): void;
		otaplat_secure_version(): number;
	}
}
