// The linter (docs/decisions.md, "Formatter and linter"): typescript-eslint's recommended rules, the
// promise rules that need type information, and this project's conventions.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

/** Node's modules and the host's MQTT libraries: never imported by the firmware (Moddable has its own http, net, timer). */
const hostOnly = [
	"assert",
	"buffer",
	"child_process",
	"crypto",
	"dgram",
	"dns",
	"events",
	"fs",
	"fs/promises",
	"http2",
	"https",
	"os",
	"path",
	"process",
	"readline",
	"stream",
	"tls",
	"url",
	"util",
	"worker_threads",
	"zlib",
	"mqtt",
	"aedes",
];

export default tseslint.config(
	{
		ignores: [
			"node_modules/**",
			"build/**",
			"dist/**",
			".sim/**",
			".fixtures/**",
			"**/*.d.ts",
			// XS host-function syntax, and the Moddable probe apps (built by mcconfig, outside the typed tree)
			"device/esp32/openeth/*.js",
			"tools/**",
			"bench/lin/probe/**",
		],
	},
	js.configs.recommended,
	...tseslint.configs.recommended,
	{
		languageOptions: {
			parserOptions: {
				project: ["./tsconfig.json", "./tsconfig.device.json", "./host/web/tsconfig.json"],
				tsconfigRootDir: import.meta.dirname,
			},
		},
		rules: {
			"@typescript-eslint/no-floating-promises": "error",
			// flags the first value of a variable that a later catch or finally reads (host/sim/lin.ts `code`)
			"no-useless-assignment": "off",
			"@typescript-eslint/no-misused-promises": "error",
			"@typescript-eslint/no-unused-vars": [
				"error",
				{argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none"},
			],
			// a Moddable callback's `this` is the connection: kept in a name for the closure inside
			"@typescript-eslint/no-this-alias": ["error", {allowedNames: ["output", "meter"]}],
			"no-restricted-syntax": [
				"error",
				{
					selector: "PropertyDefinition[accessibility='private']",
					message: "Use a # private field (the project's convention).",
				},
				{
					selector: "MethodDefinition[kind!='constructor'][accessibility='private']",
					message: "Use a # private method (the project's convention).",
				},
				{
					selector: "TSParameterProperty[accessibility='private']",
					message: "Use a # private field (the project's convention).",
				},
			],
		},
	},
	{
		files: ["rainmaker/**", "ota/**", "product/**", "device/**", "idf/**", "main.ts"],
		rules: {
			"no-restricted-imports": [
				"error",
				{
					paths: hostOnly,
					patterns: [{group: ["node:*"], message: "Firmware code imports no Node module."}],
				},
			],
		},
	},
	{
		files: ["**/*.mjs", "**/*.js"],
		...tseslint.configs.disableTypeChecked,
		languageOptions: {
			parserOptions: {project: false, projectService: false, program: null},
			globals: {console: "readonly", process: "readonly", URL: "readonly", Buffer: "readonly", trace: "readonly"},
		},
	},
);
