/*
 * Registers the Moddable stand-in resolution hooks (moddable-hooks.mjs) and the globals the XS
 * runtime provides (trace). Import it before loading device code dynamically:
 *   await installModdableStandIns(); const {X} = await import("../device/x");
 * Idempotent; affects only imports made from device/ and main.ts.
 */
import {register} from "node:module";
import {traceLines} from "./moddable/trace";

let installed = false;

export function installModdableStandIns(): void {
	if (installed) return;
	installed = true;
	const root = new URL("../../", import.meta.url).href;
	register("./moddable-hooks.mjs", import.meta.url, {data: {root}});
	(globalThis as {trace?: unknown}).trace = (...parts: unknown[]) => {
		traceLines.push(parts.map(String).join(""));
	};
	// XS built-ins the device code uses that Node lacks (XS: String.fromArrayBuffer, ArrayBuffer.fromString, Uint8Array.fromBase64)
	const xs = globalThis as unknown as {
		String: {fromArrayBuffer?: unknown};
		ArrayBuffer: {fromString?: unknown};
		Uint8Array: {fromBase64?: unknown};
	};
	xs.String.fromArrayBuffer ??= (buffer: ArrayBuffer) => Buffer.from(buffer).toString("utf8");
	xs.ArrayBuffer.fromString ??= (text: string) => {
		const bytes = Buffer.from(text, "utf8");
		return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
	};
	xs.Uint8Array.fromBase64 ??= (text: string) => {
		if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0)
			throw new SyntaxError("invalid base64 string");
		return new Uint8Array(Buffer.from(text, "base64"));
	};
}

/**
 * Imports a device module (device/<name>.ts, or "main" for main.ts) with the stand-ins in place.
 * The type parameter says which exports a test uses: the host type check does not read device/
 * (tsconfig.device.json and tsconfig.mcconfig.json check it against the Moddable typings).
 */
export async function loadDevice<T>(name: string, instance?: string): Promise<T> {
	installModdableStandIns();
	const path = name === "main" ? "../../main.ts" : `../../device/${name}.ts`;
	// a query makes a fresh module instance (main.ts runs on import, once per instance)
	const url: string =
		new URL(path, import.meta.url).href + (instance ? `?instance=${encodeURIComponent(instance)}` : "");
	return (await import(url)) as T;
}
