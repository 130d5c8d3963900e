/*
 * What the cloud knows about each node from its MQTT traffic: the config it reported, its params
 * (the `params/local/init` report replaced by it, `params/local` changes merged per device, and
 * values written through the REST API merged as the real cloud keeps the last written value, docs/protocol.md §2.3),
 * whether it is online, when it was last seen, and the fw_version of its last otafetch.
 */
import {isObject, type JsonObject} from "./http-json";

export interface NodeRecord {
	id: string;
	config?: JsonObject;
	params: JsonObject;
	online: boolean;
	/** Epoch ms of the last message from the node or its connection. */
	lastSeen?: number;
	/** fw_version of the last otafetch. */
	fetchedFwVersion?: string;
}

/** Merges `{"<device>":{"<param>":value}}` into `params`, one level deep, as RainMaker reports changes. */
export function mergeParams(params: JsonObject, changes: JsonObject): void {
	for (const [device, values] of Object.entries(changes)) {
		const current = params[device];
		if (isObject(values) && isObject(current)) params[device] = {...current, ...values};
		else params[device] = isObject(values) ? {...values} : values;
	}
}

export class NodeRegistry {
	readonly #nodes = new Map<string, NodeRecord>();
	/** MQTT client id → node ids it spoke for, to know which nodes go offline with a connection. */
	readonly #clients = new Map<string, Set<string>>();

	readonly #now: () => number;

	constructor(now: () => number) {
		this.#now = now;
	}

	/** How many nodes the registry holds. */
	get size(): number {
		return this.#nodes.size;
	}

	get(id: string): NodeRecord | undefined {
		return this.#nodes.get(id);
	}

	all(): NodeRecord[] {
		return [...this.#nodes.values()];
	}

	/** The record, created when missing. */
	ensure(id: string): NodeRecord {
		let node = this.#nodes.get(id);
		if (!node) {
			node = {id, params: {}, online: false};
			this.#nodes.set(id, node);
		}
		return node;
	}

	/** A node message arrived from `clientId`; returns true when this brought the node online. */
	seen(nodeId: string, clientId: string | undefined): boolean {
		const node = this.ensure(nodeId);
		node.lastSeen = this.#now();
		if (clientId !== undefined) {
			let nodes = this.#clients.get(clientId);
			if (!nodes) this.#clients.set(clientId, (nodes = new Set()));
			nodes.add(nodeId);
		}
		const cameOnline = !node.online;
		node.online = true;
		return cameOnline;
	}

	/**
	 * A client connected. RainMaker's client id is the node id (docs/protocol.md §3.1), and a reconnecting node
	 * publishes nothing (docs/protocol.md §3.4), so a known node is online again from its CONNECT; an unknown client
	 * id becomes a node only once it publishes on node topics.
	 */
	clientConnected(clientId: string): boolean {
		return this.#nodes.has(clientId) ? this.seen(clientId, clientId) : false;
	}

	/** A client disconnected; returns the nodes that went offline with it. */
	clientDisconnected(clientId: string): string[] {
		const nodes = this.#clients.get(clientId);
		this.#clients.delete(clientId);
		const offline: string[] = [];
		for (const nodeId of nodes ?? []) {
			const stillOnline = [...this.#clients.values()].some(others => others.has(nodeId));
			const node = this.#nodes.get(nodeId);
			if (node && !stillOnline && node.online) {
				node.online = false;
				node.lastSeen = this.#now();
				offline.push(nodeId);
			}
		}
		return offline;
	}

	setConfig(nodeId: string, config: JsonObject): void {
		this.ensure(nodeId).config = config;
	}

	replaceParams(nodeId: string, params: JsonObject): void {
		this.ensure(nodeId).params = structuredClone(params);
	}

	mergeParams(nodeId: string, changes: JsonObject): void {
		mergeParams(this.ensure(nodeId).params, structuredClone(changes));
	}
}
