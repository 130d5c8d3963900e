/*
 * User–node mapping (docs/local-cloud.md, "Users and authorization"): the user's half of a mapping
 * (`PUT user/nodes/mapping` add) and the node's half (`node/<id>/user/mapping`). A request is
 * confirmed when both name the same user id and secret key, in either order, as the real cloud
 * confirms a mapping only with the node's word.
 */
import {randomUUID} from "node:crypto";
import type {MappingRequest} from "./cloud-api";
import type {UserDirectory} from "./users";

const maxMappingRequests = 1000;

export class MappingStore {
	readonly #requests = new Map<string, MappingRequest>();
	/** The last `user/mapping` report of each node not yet matched by a request. */
	readonly #nodeReports = new Map<string, {userId: string; secretKey: string}>();
	readonly #users: UserDirectory;
	readonly #log: (line: string) => void;

	constructor(users: UserDirectory, log: (line: string) => void) {
		this.#users = users;
		this.#log = log;
	}

	/** The user's half; returns the request id. */
	request(nodeId: string, userId: string, secretKey: string): string {
		const requestId = randomUUID();
		if (this.#requests.size >= maxMappingRequests) this.#requests.delete(this.#requests.keys().next().value!);
		this.#requests.set(requestId, {nodeId, userId, secretKey, status: "requested"});
		this.#confirm(nodeId);
		return requestId;
	}

	get(requestId: string): MappingRequest | undefined {
		return this.#requests.get(requestId);
	}

	/** The node's half, from `node/<id>/user/mapping`. */
	nodeReported(nodeId: string, userId: string, secretKey: string): void {
		this.#nodeReports.set(nodeId, {userId, secretKey});
		this.#confirm(nodeId);
	}

	#confirm(nodeId: string): void {
		const reported = this.#nodeReports.get(nodeId);
		if (!reported) return;
		for (const request of this.#requests.values()) {
			if (
				request.nodeId === nodeId &&
				request.status === "requested" &&
				request.userId === reported.userId &&
				request.secretKey === reported.secretKey
			) {
				request.status = "confirmed";
				this.#users.map(nodeId, request.userId);
				this.#nodeReports.delete(nodeId);
				this.#log(
					`${nodeId} mapped to user ${this.#users.users.find(user => user.userId === request.userId)?.userName ?? request.userId}`,
				);
			}
		}
	}
}
