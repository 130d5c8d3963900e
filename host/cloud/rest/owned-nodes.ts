/* Which nodes a user may see: the ones that belong to them (docs/local-cloud.md, "Users and authorization"). */
import {ApiError, ErrorCode} from "../http-json";
import type {NodeRecord} from "../registry";
import type {UserAccount} from "../users";
import type {CloudServices} from "./context";

/**
 * The ids of the user's nodes, sorted (docs/local-cloud.md, "Which nodes are listed"): the nodes
 * online now, the nodes mapped explicitly (user/nodes/mapping), and the nodes an OTA job names,
 * that belong to the user. A node that connected under an id nothing else names (a mistyped
 * --node-id) is listed while it is online and drops from the list when it goes offline.
 */
export function nodeIdsOf(cloud: CloudServices, account: UserAccount): string[] {
	const named = new Set([...cloud.users.mappedNodes(), ...cloud.jobs().flatMap(job => job.nodes)]);
	const ids = new Set([
		...cloud.registry
			.all()
			.filter(node => node.online || named.has(node.id))
			.map(node => node.id),
	]);
	for (const id of cloud.users.mappedNodes()) ids.add(id);
	return [...ids].filter(id => cloud.users.owns(account, id)).sort();
}

/**
 * The node if it exists and belongs to the caller. A node of another user is answered exactly as
 * an unknown one, so the answer does not tell whether the id exists.
 */
export function ownNode(cloud: CloudServices, account: UserAccount, nodeId: string): NodeRecord {
	const node = cloud.node(nodeId);
	if (!cloud.users.owns(account, nodeId) || (!node && !cloud.users.mappedNodes().includes(nodeId)))
		throw new ApiError(404, `node ${nodeId} not found`, ErrorCode.notFound);
	return node ?? {id: nodeId, params: {}, online: false};
}
