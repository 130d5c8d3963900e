/*
 * manifest.json against the code: a config key (with the same default) for every OTA option, the
 * FFI signatures of each platform that types/check/mc-ffi.d.ts declares and its C source defines,
 * preloaded modules that exist, resources that exist, the partition table and sdkconfig it names.
 * With MODDABLE set (a Moddable SDK checkout), every include must exist in the SDK.
 */
import {strict as assert} from "node:assert";
import {existsSync, readdirSync, readFileSync} from "node:fs";
import {OTA_OPTION_TABLE} from "../ota/options";

const root = new URL("../", import.meta.url);
const manifest = JSON.parse(readFileSync(new URL("manifest.json", root), "utf8")) as {
	build: {[key: string]: string};
	include: string[];
	preload: string[];
	modules: {[name: string]: string | string[]};
	config: {[key: string]: unknown};
	resources: {"*": string[]};
	platforms: {
		[platform: string]: {
			include?: string[];
			preload?: string[];
			data?: {"*": string[]};
			ffi?: {sources: string[]; functions: {[name: string]: {arguments: string[]; returns: string}}};
			modules?: {[name: string]: string};
		};
	};
};

describe("manifest.json", () => {
	it("has a config key with the device default of the option table for every OTA option", () => {
		for (const spec of OTA_OPTION_TABLE)
			assert.equal(manifest.config[spec.manifestKey], spec.default, `config.${spec.manifestKey}`);
		assert.deepEqual(
			manifest.config.tls,
			{DHE_RSA: false},
			"Moddable's TLS cannot sign a client certificate verify with DHE_RSA",
		);
	});

	it("declares each platform's FFI functions as types/check/mc-ffi.d.ts types them and its C source defines them", () => {
		const declared = readFileSync(new URL("types/check/mc-ffi.d.ts", root), "utf8");
		const cType = (type: string) => type.replace("*", " ?\\*").replace(/^const /, "const ");
		for (const platform of ["esp32", "lin"]) {
			const ffi = manifest.platforms[platform].ffi!;
			const source = ffi.sources.map(file => readFileSync(new URL(file, root), "utf8")).join("\n");
			assert.ok(Object.keys(ffi.functions).length > 0, platform);
			for (const [name, signature] of Object.entries(ffi.functions)) {
				const tsReturn =
					signature.returns === "void" ? "void" : signature.returns.includes("char*") ? "string" : "number";
				const tsArgs = signature.arguments
					.map(
						(type, i) =>
							`arg${i}: ${type.includes("char*") ? "string" : type.endsWith("*") ? "ArrayBuffer" : "number"}`,
					)
					.join(", ");
				assert.ok(
					declared.includes(`${name}(${tsArgs}): ${tsReturn};`),
					`${name}(${tsArgs}): ${tsReturn} in mc-ffi.d.ts`,
				);
				const cArgs = signature.arguments.length
					? signature.arguments.map(type => `${cType(type)} ?\\w+`).join(", *")
					: "void";
				assert.match(
					source,
					new RegExp(`\\b${cType(signature.returns)} ?${name}\\(${cArgs}\\)`),
					`${name} in the ${platform} source`,
				);
			}
		}
	});

	it("preloads TypeScript modules that exist, but not main (it starts the node)", () => {
		assert.ok(!manifest.preload.includes("main"));
		const esp32 = manifest.platforms.esp32.preload ?? [];
		// a specifier mapped one by one is preloaded from its file: "ssl/session" is device/tls/session.ts;
		// the SDK's securesocket and session (modules/crypt/tls.json's, listed here: docs/decisions.md §1.15) are not the project's
		const sources = (name: string) => [manifest.modules[name] ?? []].flat();
		const fileOf = (name: string) =>
			sources(name)
				.find(source => source.startsWith("./"))
				?.slice(2) ?? name;
		const sdk = manifest.preload.filter(name =>
			sources(name).some(source => source.startsWith("$(MODULES)/crypt/")),
		);
		assert.deepEqual(sdk, ["securesocket", "ssl/session-sdk"]);
		const preloaded = [
			...manifest.preload.filter(name => !sdk.includes(name)),
			...esp32.filter(name => name !== "console"),
		].map(fileOf);
		for (const file of preloaded) assert.ok(existsSync(new URL(`${file}.ts`, root)), file);
		// mcconfig expands no wildcard preload for TypeScript: every module of the core and the adapters is listed
		// (device/platform.ts holds types only; the lin modules and idf/ are not preloaded: the lin build is a simulator;
		// device/rollback-clock.ts keeps its state in a module variable, which a preload would freeze)
		for (const folder of ["rainmaker", "ota", "product", "device", "device/esp32", "device/tls"])
			for (const file of readdirSync(new URL(`${folder}/`, root)).filter(
				name =>
					(name.endsWith(".ts") &&
						!name.endsWith(".d.ts") &&
						name !== "platform.ts" &&
						!(folder === "device" && name === "rollback-clock.ts")) ||
					(folder === "device/esp32" && name === "platform.ts"),
			))
				assert.ok(preloaded.includes(`${folder}/${file.slice(0, -3)}`), `${folder}/${file} is not in preload`);
	});

	it("starts the rollback clock in a setup step, before setup/network (not preloaded: its state is set at run time)", () => {
		assert.equal(
			(manifest as unknown as {modules: {[name: string]: string}}).modules["setup/rollback-clock"],
			"./device/setup/rollback-clock",
		);
		assert.ok(existsSync(new URL("device/setup/rollback-clock.ts", root)));
		assert.ok(
			!manifest.preload.some(
				name => (name.includes("rollback-clock") && name.startsWith("device/")) || name.startsWith("setup/"),
			),
		);
		assert.match(readFileSync(new URL("main.ts", root), "utf8"), /startEarly\(\)/);
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
					assert.ok(
						existsSync(new URL(path.endsWith("/*") ? path.slice(0, -1) : `${path}.ts`, root)),
						`${platform} ${name}`,
					);
		for (const data of manifest.platforms.lin.data!["*"]) assert.ok(existsSync(new URL(`${data}.csv`, root)), data);
	});

	it("includes only manifests that exist in the Moddable SDK ($MODDABLE)", function () {
		const moddable = process.env.MODDABLE;
		if (!moddable || !existsSync(moddable)) this.skip();
		const includes = [
			...manifest.include,
			...Object.values(manifest.platforms).flatMap(platform => platform.include ?? []),
		];
		for (const include of includes.filter(include => !include.includes("$(RMX_NETWORK)")))
			assert.ok(existsSync(include.replace("$(MODDABLE)", moddable as string)), include);
	});

	it("has a network manifest for each RMX_NETWORK value, wifi the default (docs/device.md, section 11)", () => {
		assert.equal(manifest.build["RMX_NETWORK ?="], "wifi");
		const include = manifest.include[0];
		assert.equal(
			include,
			"./device/esp32/$(RMX_NETWORK)/manifest.json",
			"first: the first mapping of setup/network is the one mcconfig builds",
		);
		for (const network of ["wifi", "openeth"])
			assert.ok(existsSync(new URL(include!.replace("$(RMX_NETWORK)", network), root)), network);
		const openeth = JSON.parse(readFileSync(new URL("device/esp32/openeth/manifest.json", root), "utf8")) as {
			platforms: {esp32: {modules: {[name: string]: string}}};
		};
		const setup = openeth.platforms.esp32.modules["setup/network"];
		for (const extension of [".js", ".c"])
			assert.ok(
				existsSync(new URL(`device/esp32/openeth/${setup.slice(2)}${extension}`, root)),
				`setup/network${extension}`,
			);
	});
});
