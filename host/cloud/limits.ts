/*
 * Bounds on what the cloud stores for nodes (docs/local-cloud.md, "Bounded state"): each config and
 * params document has a largest size, depth and key count, and the number of nodes is capped in
 * all and per client address. They are checked where a message arrives (the broker refuses the
 * publish and ends the connection, as for an oversized message), so nothing a node sends can
 * make its owner's API fail later.
 */
import {isObject, type JsonObject} from "./http-json";
import {jsonDepth, keyCount} from "./json-shape";
import {mergeParams, type NodeRegistry} from "./registry";
import type {NodeTopic} from "./topics";

export interface DocumentLimits {
	/** Largest JSON text, in bytes. */
	maxBytes: number;
	/** Deepest nesting of objects and arrays (the document itself is level 1). */
	maxDepth: number;
	/** Most object keys, counted at every level. */
	maxKeys: number;
}

/** A node's config: a real one with a few devices is a few KiB (docs/protocol.md §6). */
export const CONFIG_LIMITS: DocumentLimits = Object.freeze({maxBytes: 32 * 1024, maxDepth: 12, maxKeys: 1024});
/** A node's params as the cloud keeps them (after merging every change). */
export const PARAMS_LIMITS: DocumentLimits = Object.freeze({maxBytes: 16 * 1024, maxDepth: 8, maxKeys: 512});
/** Largest `user/mapping` and `otafetch` message (each a few short strings). */
export const SMALL_MESSAGE_CHARS = 1024;
/** Nodes the cloud keeps in all, and nodes first seen from one client address. */
export const DEFAULT_MAX_NODES = 500;
export const DEFAULT_MAX_NODES_PER_ADDRESS = 200;

/** Why `text` (a JSON document named `what`) is over `limits`; undefined when it fits. */
export function documentProblem(text: string, limits: DocumentLimits, what: string): string | undefined {
	const bytes = Buffer.byteLength(text);
	if (bytes > limits.maxBytes) return `${what} of ${bytes} bytes exceeds the limit of ${limits.maxBytes}`;
	const depth = jsonDepth(text);
	if (depth > limits.maxDepth) return `${what} nests ${depth} levels, more than the limit of ${limits.maxDepth}`;
	let value: unknown;
	try {
		value = JSON.parse(text);
	} catch {
		return undefined; // not JSON: the handler ignores it with its own warning
	}
	const keys = keyCount(value);
	if (keys > limits.maxKeys) return `${what} has ${keys} keys, more than the limit of ${limits.maxKeys}`;
	return undefined;
}

export interface NodeLimitOptions {
	maxNodes?: number;
	maxNodesPerAddress?: number;
}

/** Checks each node→cloud message before the cloud handles it; returns why it is refused, or undefined. */
export class NodeLimits {
	readonly #registry: NodeRegistry;
	readonly #maxNodes: number;
	readonly #maxPerAddress: number;
	/** Client address → node ids first seen from it. */
	readonly #created = new Map<string, Set<string>>();

	constructor(registry: NodeRegistry, options: NodeLimitOptions = {}) {
		this.#registry = registry;
		this.#maxNodes = options.maxNodes ?? DEFAULT_MAX_NODES;
		this.#maxPerAddress = options.maxNodesPerAddress ?? DEFAULT_MAX_NODES_PER_ADDRESS;
	}

	vet(topic: NodeTopic, payload: string, address: string): string | undefined {
		const {nodeId, suffix} = topic;
		const node = this.#registry.get(nodeId);
		if (!node) {
			const created = this.#created.get(address) ?? new Set<string>();
			if (this.#registry.size >= this.#maxNodes)
				return `the cloud keeps at most ${this.#maxNodes} nodes; ${nodeId} would be one more`;
			if (created.size >= this.#maxPerAddress)
				return `client address ${address} has created ${created.size} nodes, the limit`;
			created.add(nodeId);
			this.#created.set(address, created);
		}
		if (suffix === "config") return documentProblem(payload, CONFIG_LIMITS, "config");
		if (suffix === "params/local/init") return documentProblem(payload, PARAMS_LIMITS, "params");
		if (suffix === "params/local" || suffix.startsWith("params/local/")) {
			const problem = documentProblem(payload, PARAMS_LIMITS, "params change");
			if (problem !== undefined || !node) return problem;
			return mergedParamsProblem(node.params, payload);
		}
		// The cloud keeps strings of these two (the mapping's ids, the fetched version); otastatus cuts its own (jobs.ts).
		if ((suffix === "user/mapping" || suffix === "otafetch") && payload.length > SMALL_MESSAGE_CHARS)
			return `${suffix} of ${payload.length} characters exceeds the limit of ${SMALL_MESSAGE_CHARS}`;
		return undefined;
	}
}

/** Why merging `changes` (JSON text or object) into `params` would put them over PARAMS_LIMITS. */
export function mergedParamsProblem(params: JsonObject, changes: string | JsonObject): string | undefined {
	let value: unknown = changes;
	if (typeof changes === "string") {
		try {
			value = JSON.parse(changes);
		} catch {
			return undefined;
		}
	}
	if (!isObject(value)) return undefined;
	const merged = structuredClone(params);
	mergeParams(merged, value);
	return documentProblem(JSON.stringify(merged), PARAMS_LIMITS, "the node's params with this change");
}
