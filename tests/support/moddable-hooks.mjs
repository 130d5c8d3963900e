/*
 * Node module-resolution hooks (module.register, run in the loader thread) that give the device
 * code (device/, main.ts) host stand-ins for the Moddable SDK's modules. Only imports made from
 * device/, main.ts or the stand-ins themselves are redirected, so "http", "console", ... keep
 * their Node meaning everywhere else in the test process.
 * Plain JavaScript: the loader thread must be able to load it before tsx's hooks apply.
 */
const STAND_INS = new Map([
	["timer", "timer.ts"],
	["time", "time.ts"],
	["preference", "preference.ts"],
	["socket", "socket.ts"],
	["securesocket", "securesocket.ts"],
	["http", "http.ts"],
	["crypt", "crypt.ts"],
	["flash", "flash.ts"],
	["mc/ffi", "mc/ffi.ts"],
	["mc/config", "mc/config.ts"],
	["cli", "cli.ts"],
	["telnet", "telnet.ts"],
	["Resource", "Resource.ts"],
	["serial-console", "serial-console.ts"],
	["device-platform", "device-platform.mjs"],
	["instrumentation", "instrumentation.ts"],
	["debug", "debug.ts"],
]);

let root;
let standIns;

export async function initialize(data) {
	root = data.root;
	standIns = new URL("tests/support/moddable/", root).href;
}

function isDeviceParent(parentURL) {
	if (!parentURL || !root) return false;
	parentURL = parentURL.replace(/[?#].*$/, "");
	return (
		parentURL.startsWith(new URL("device/", root).href) ||
		parentURL === new URL("main.ts", root).href ||
		parentURL.startsWith(standIns)
	);
}

export async function resolve(specifier, context, nextResolve) {
	const file = STAND_INS.get(specifier);
	if (file && isDeviceParent(context.parentURL)) return nextResolve(new URL(file, standIns).href, context);
	return nextResolve(specifier, context);
}
