#!/usr/bin/env node
/*
 * A sdkconfig.h for scripts/check-idf.sh, without ESP-IDF's Python tools (kconfgen).
 *
 * The real esp32 build gets sdkconfig.h from `idf.py reconfigure` (kconfgen over ESP-IDF's whole
 * Kconfig tree), in $(PROJ_DIR)/build/config. This generator writes only the options it is asked
 * for (the CONFIG_ names the compiled headers and sources mention), each resolved as kconfgen
 * would in the simple cases:
 *   1. the value in the merged sdkconfig.defaults files given (later files win, as mcconfig merges
 *      $MODDABLE/build/devices/esp32/xsProj-<target>/sdkconfig.defaults and this repository's
 *      sdkconfig/sdkconfig.defaults; "=n" or "=" is off);
 *   2. else y when a symbol that is y `select`s it;
 *   3. else the first `default` of its Kconfig entry whose `if` holds, when the entry's
 *      `depends on` (and enclosing `if` / `menu ... depends on` blocks) hold; a bool in a
 *      `choice` is y when it is the choice's default and no other member is set.
 * Kconfig entries come from $IDF_PATH/Kconfig and every Kconfig* file under components/, except
 * test_apps and folders named after another target. $IDF_TARGET and $(IDF_TARGET) expand to the
 * target. Not modelled: `imply`, `range`, `visible if`, per-choice `depends on`, `option env`
 * (other than the target), and options no scanned file mentions. docs/device.md, section 8.
 *
 * Usage: node idf-sdkconfig.mjs --idf IDF_PATH --target esp32c3 --out sdkconfig.h
 *          [--defaults FILE]... [--scan FILE]...
 * Prints the CONFIG_ names it could not resolve to stderr (they are left undefined, as kconfgen
 * leaves a bool that is n).
 */
import {readFileSync, readdirSync, statSync, writeFileSync, existsSync} from "node:fs";
import {join, relative, sep} from "node:path";

const args = process.argv.slice(2);
const opts = {defaults: [], scan: []};
for (let i = 0; i < args.length; i += 2) {
	const name = args[i].replace(/^--/, "");
	const value = args[i + 1];
	if (value === undefined) fail(`idf-sdkconfig: option --${name} needs a value`);
	if (name === "defaults" || name === "scan") opts[name].push(value);
	else opts[name] = value;
}
if (!opts.idf || !opts.target || !opts.out)
	fail(
		"idf-sdkconfig: usage: idf-sdkconfig.mjs --idf IDF_PATH --target TARGET --out sdkconfig.h [--defaults FILE]... [--scan FILE]...",
	);

function fail(message) {
	process.stderr.write(message + "\n");
	process.exit(2);
}

const target = opts.target;
const targets = new Set(
	readdirSync(join(opts.idf, "components", "soc")).filter(name => /^esp32/.test(name) || name === "linux"),
);
if (!targets.has(target)) fail(`idf-sdkconfig: ${target} is not a target of ${opts.idf} (no components/soc/${target})`);

/* 1. Kconfig files */
function kconfigFiles(dir, out) {
	for (const name of readdirSync(dir)) {
		const path = join(dir, name);
		const st = statSync(path);
		if (st.isDirectory()) {
			if (
				name === "test_apps" ||
				name === "test" ||
				name === "host_test" ||
				(targets.has(name) && name !== target)
			)
				continue;
			kconfigFiles(path, out);
		} else if (/^Kconfig/.test(name)) out.push(path);
	}
	return out;
}
const files = [join(opts.idf, "Kconfig"), ...kconfigFiles(join(opts.idf, "components"), [])];

/* 2. Parse: config entries with type, defaults, depends, selects; choices. */
const entries = new Map(); // name -> { type, defaults: [{value, cond}], depends: [expr], choice }
const selectedBy = new Map(); // name -> [{by, cond}]
const choices = [];
for (const file of files) {
	const lines = readFileSync(file, "utf8").split(/\r?\n/);
	const blocks = []; // stack of { kind: "if"|"menu"|"choice", cond: [expr], choice }
	let current = null; // the config, menu or choice whose attributes follow
	let inHelp = false,
		helpIndent = 0;
	for (const raw of lines) {
		const line = raw.replace(/\t/g, "        ");
		const text = line.trim();
		if (inHelp) {
			const indent = line.length - line.trimStart().length;
			if (!text || indent > helpIndent) continue;
			inHelp = false;
		}
		if (!text || text.startsWith("#")) continue;
		const [word] = text.split(/\s+/, 1);
		const rest = text.slice(word.length).trim();
		const enclosing = () => blocks.flatMap(block => block.cond);
		if (word === "config" || word === "menuconfig") {
			const choice = blocks.findLast(block => block.kind === "choice")?.choice ?? null;
			const inChoice = blocks.length && blocks[blocks.length - 1].kind === "choice";
			let entry = {
				name: rest,
				type: null,
				defaults: [],
				depends: enclosing(),
				choice: inChoice ? choice : null,
				file,
			};
			if (!entries.has(rest)) entries.set(rest, []);
			entries.get(rest).push(entry);
			if (inChoice) choice.members.push(rest);
			current = entry;
		} else if (word === "choice") {
			const choice = {members: [], defaults: [], depends: enclosing()};
			choices.push(choice);
			blocks.push({kind: "choice", cond: [], choice});
			current = choice;
		} else if (word === "endchoice" || word === "endif" || word === "endmenu") {
			blocks.pop();
			current = null;
		} else if (word === "if") {
			blocks.push({kind: "if", cond: [rest]});
			current = null;
		} else if (word === "menu") {
			const block = {kind: "menu", cond: []};
			blocks.push(block);
			current = block;
		} else if (word === "help" || word === "---help---") {
			inHelp = true;
			helpIndent = line.length - line.trimStart().length;
		} else if (!current) continue;
		else if (["bool", "tristate", "int", "hex", "string"].includes(word)) {
			current.type = word; // a prompt's "if" only hides the prompt
		} else if (word === "def_bool" || word === "def_tristate") {
			current.type = "bool";
			current.defaults.push(splitIf(rest));
		} else if (word === "default") {
			current.defaults.push(splitIf(rest));
		} else if (word === "depends" && rest.startsWith("on ")) {
			if (current.kind === "menu") current.cond.push(rest.slice(3));
			else current.depends = [...current.depends, rest.slice(3)];
		} else if (word === "select" && current.name) {
			const {value, cond} = splitIf(rest);
			if (!selectedBy.has(value)) selectedBy.set(value, []);
			selectedBy.get(value).push({by: current.name, cond, depends: current.depends});
		}
	}
}

function splitIf(text) {
	const m = /^(.*?)\s+if\s+(.*)$/.exec(text);
	return m ? {value: m[1].trim(), cond: m[2].trim()} : {value: text.trim(), cond: null};
}

/* 3. The merged defaults (mcconfig's merge: later files win; "n" is off). */
const explicit = new Map();
for (const file of opts.defaults) {
	if (!existsSync(file)) fail(`idf-sdkconfig: ${file} does not exist`);
	for (const line of readFileSync(file, "utf8").split(/\r?\n/)) {
		const m = /^CONFIG_([A-Za-z0-9_]+)=(.*)$/.exec(line.trim());
		if (m) explicit.set(m[1], m[2] === "n" ? "" : m[2]);
	}
}

/* 4. Evaluation: values are "y", "n", numbers and strings as text; "" is n. */
const env = {IDF_TARGET: target};
function expand(text) {
	return text.replace(/\$\((\w+)\)|\$(\w+)/g, (_, a, b) => env[a ?? b] ?? "");
}
const memo = new Map();
const visiting = new Set();
function value(name) {
	if (memo.has(name)) return memo.get(name);
	if (visiting.has(name)) return "";
	visiting.add(name);
	const result = resolve(name);
	visiting.delete(name);
	memo.set(name, result);
	return result;
}
function resolve(name) {
	if (explicit.has(name)) {
		const text = explicit.get(name);
		return text.startsWith('"') ? text.slice(1, -1) : text;
	}
	const defs = entries.get(name);
	if (!defs) return undefined;
	const type = defs.find(entry => entry.type)?.type ?? "bool";
	for (const select of selectedBy.get(name) ?? [])
		if (truthy(value(select.by)) && (!select.cond || truthy(evaluate(select.cond)))) return "y";
	for (const entry of defs) {
		if (!entry.depends.every(expr => truthy(evaluate(expr)))) continue;
		if (entry.choice && type === "bool") {
			const choice = entry.choice;
			if (!choice.depends.every(expr => truthy(evaluate(expr)))) return "";
			const setMember = choice.members.find(member => explicit.has(member) && truthy(explicit.get(member)));
			if (setMember) return setMember === name ? "y" : "";
			const chosen =
				choice.defaults.find(d => !d.cond || truthy(evaluate(d.cond)))?.value ??
				choice.members.find(member =>
					entries.get(member).some(e => e.depends.every(expr => truthy(evaluate(expr)))),
				);
			return chosen === name ? "y" : "";
		}
		for (const d of entry.defaults) {
			if (d.cond && !truthy(evaluate(d.cond))) continue;
			return literal(d.value, type);
		}
	}
	return type === "bool" ? "" : undefined;
}
function literal(text, type) {
	text = text.trim();
	if (text.startsWith('"')) {
		const v = expand(text.slice(1, -1));
		return type === "bool" ? (v === "y" ? "y" : "") : v;
	}
	if (/^(y|n)$/.test(text)) return text === "y" ? "y" : "";
	if (/^-?(0x[0-9a-fA-F]+|\d+)$/.test(text)) return text;
	// a symbol (default OTHER_SYMBOL) or an expression
	const v = evaluate(text);
	return type === "bool" ? (truthy(v) ? "y" : "") : v;
}
function truthy(v) {
	return v !== undefined && v !== "" && v !== "n";
}

/* Kconfig expressions: symbols, "strings", numbers, = != < > <= >=, !, &&, ||, parentheses. */
function evaluate(text) {
	const tokens = [];
	const re = /\s*("(?:[^"\\]|\\.)*"|&&|\|\||!=|<=|>=|[=<>!()]|[A-Za-z0-9_$().-]+)/y;
	let m;
	re.lastIndex = 0;
	while (re.lastIndex < text.length && (m = re.exec(text))) tokens.push(m[1]);
	let at = 0;
	const peek = () => tokens[at];
	const next = () => tokens[at++];
	function primary() {
		const token = next();
		if (token === "!") return truthy(primary()) ? "" : "y";
		if (token === "(") {
			const v = or();
			next();
			return v;
		}
		if (token === undefined) return "";
		if (token.startsWith('"')) return expand(token.slice(1, -1));
		if (/^-?(0x[0-9a-fA-F]+|\d+)$/.test(token)) return token;
		if (token === "y" || token === "n") return token === "y" ? "y" : "";
		const v = value(token);
		return v === undefined ? "" : v;
	}
	function compare() {
		const left = primary();
		const op = peek();
		if (["=", "!=", "<", ">", "<=", ">="].includes(op)) {
			next();
			const right = primary();
			const l = norm(left),
				r = norm(right);
			const numeric = typeof l === "number" && typeof r === "number";
			const result =
				op === "="
					? l === r
					: op === "!="
						? l !== r
						: numeric
							? op === "<"
								? l < r
								: op === ">"
									? l > r
									: op === "<="
										? l <= r
										: l >= r
							: false;
			return result ? "y" : "";
		}
		return left;
	}
	function norm(v) {
		if (v === "" || v === "n") return "n";
		if (/^-?(0x[0-9a-fA-F]+|\d+)$/.test(v)) return Number(v);
		return v;
	}
	function and() {
		let v = compare();
		while (peek() === "&&") {
			next();
			const w = compare();
			v = truthy(v) && truthy(w) ? "y" : "";
		}
		return v;
	}
	function or() {
		let v = and();
		while (peek() === "||") {
			next();
			const w = and();
			v = truthy(v) || truthy(w) ? "y" : "";
		}
		return v;
	}
	return or();
}

/* 5. The names to write: every CONFIG_ name in the scanned files. */
const wanted = new Set();
for (const file of opts.scan)
	for (const m of readFileSync(file, "utf8").matchAll(/\bCONFIG_([A-Za-z0-9_]+)/g)) wanted.add(m[1]);
const out = [
	"/* Generated by scripts/idf-sdkconfig.mjs for scripts/check-idf.sh (not by kconfgen): only the",
	` * options the compiled files mention, resolved for ${target} from ESP-IDF's Kconfig defaults and`,
	` * ${opts.defaults.map(file => relative(process.cwd(), file).split(sep).join("/")).join(", ") || "no sdkconfig.defaults"}. */`,
	"#pragma once",
];
const unresolved = [];
for (const name of [...wanted].sort()) {
	const v = value(name);
	if (v === undefined) {
		if (!entries.has(name)) unresolved.push(name);
		continue;
	}
	if (v === "" || v === "n") continue;
	const type =
		entries.get(name)?.find(entry => entry.type)?.type ??
		(v === "y" ? "bool" : /^-?(0x[0-9a-fA-F]+|\d+)$/.test(v) ? "int" : "string");
	if (type === "bool" || type === "tristate") out.push(`#define CONFIG_${name} 1`);
	else if (type === "string") out.push(`#define CONFIG_${name} ${JSON.stringify(v)}`);
	else out.push(`#define CONFIG_${name} ${v}`);
}
writeFileSync(opts.out, out.join("\n") + "\n");
if (unresolved.length)
	process.stderr.write(
		`idf-sdkconfig: no Kconfig entry for ${target} (left undefined): ${unresolved.map(name => "CONFIG_" + name).join(" ")}\n`,
	);
