/*
 * manifest.json against the code: a config key (with the same default) for every OTA option, the
 * FFI signatures that types/check/mc-ffi.d.ts declares, preloaded modules that exist, resources
 * that exist, the partition table and sdkconfig it names. With MODDABLE set (a Moddable SDK
 * checkout), every include must exist in the SDK.
 */
import {strict as assert} from "node:assert";
import {existsSync, readdirSync, readFileSync} from "node:fs";
import {OTA_OPTION_TABLE} from "../ota/options";

const root = new URL("../", import.meta.url);
const manifest = JSON.parse(readFileSync(new URL("manifest.json", root), "utf8")) as {
	build: {[key: string]: string};
	include: string[];
	preload: string[];
	config: {[key: string]: unknown};
	resources: {"*": string[]};
	ffi: {functions: {[name: string]: {arguments: string[]; returns: string}}};
	platforms: {[platform: string]: {include?: string[]; ffi?: {sources: string[]}; modules?: {[name: string]: string}}};
};

describe("manifest.json", () => {
	it("has a config key with the device default of the option table for every OTA option", () => {
		for (const spec of OTA_OPTION_TABLE)
			assert.equal(manifest.config[spec.manifestKey], spec.default, `config.${spec.manifestKey}`);
		assert.deepEqual(manifest.config.tls, {DHE_RSA: false}, "Moddable's TLS cannot sign a client certificate verify with DHE_RSA");
	});

	it("declares the FFI functions that types/check/mc-ffi.d.ts types, with a C source per platform", () => {
		const declared = readFileSync(new URL("types/check/mc-ffi.d.ts", root), "utf8");
		for (const [name, signature] of Object.entries(manifest.ffi.functions)) {
			const tsReturn = signature.returns === "void" ? "void" : "number";
			assert.ok(declared.includes(`${name}(): ${tsReturn};`), `${name} in mc-ffi.d.ts`);
			for (const platform of ["esp32", "lin"]) {
				const source = readFileSync(new URL(manifest.platforms[platform].ffi!.sources[0], root), "utf8");
				assert.match(source, new RegExp(`\\b${name}\\(void\\)`), `${name} in the ${platform} source`);
			}
		}
	});

	it("preloads TypeScript modules that exist, but not main (it starts the node)", () => {
		assert.ok(!manifest.preload.includes("main"));
		for (const module of manifest.preload)
			assert.ok(existsSync(new URL(`${module}.ts`, root)), module);
		// mcconfig expands no wildcard preload for TypeScript: every module of the core and the adapters is listed.
		for (const folder of ["rainmaker", "ota", "device"])
			for (const file of readdirSync(new URL(`${folder}/`, root)).filter(name => name.endsWith(".ts") && !name.endsWith(".d.ts")))
				assert.ok(manifest.preload.includes(`${folder}/${file.slice(0, -3)}`), `${folder}/${file} is not in preload`);
	});

	it("names files that exist: partitions, sdkconfig with rollback, resources, platform modules", () => {
		assert.ok(existsSync(new URL(manifest.build.PARTITIONS_FILE, root)));
		const sdkconfig = readFileSync(new URL(`${manifest.build.SDKCONFIGPATH}/sdkconfig.defaults`, root), "utf8");
		assert.match(sdkconfig, /^CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE=y$/m);
		assert.match(sdkconfig, /^CONFIG_BOOTLOADER_SKIP_VALIDATE_ALWAYS=n$/m);
		for (const resource of manifest.resources["*"])
			assert.ok(existsSync(new URL(`${resource}.der`, root)), resource);
		for (const platform of ["esp32", "lin"])
			for (const [name, path] of Object.entries(manifest.platforms[platform].modules ?? {}))
				if (path.startsWith("./"))
					assert.ok(existsSync(new URL(`${path}.ts`, root)), `${platform} ${name}`);
	});

	it("includes only manifests that exist in the Moddable SDK ($MODDABLE)", function () {
		const moddable = process.env.MODDABLE;
		if (!moddable || !existsSync(moddable))
			this.skip();
		const includes = [...manifest.include, ...Object.values(manifest.platforms).flatMap(platform => platform.include ?? [])];
		for (const include of includes)
			assert.ok(existsSync(include.replace("$(MODDABLE)", moddable as string)), include);
	});
});
