/* Which nodes a user may see: the ones that belong to them (docs/local-cloud.md, "Users and authorization"). */
import {ApiError, ErrorCode} from "../http-json";
import type {NodeRecord} from "../registry";
import type {UserAccount} from "../users";
import type {CloudServices} from "./context";

/** The ids of the user's nodes: every node the cloud has seen or that was mapped, that belongs to the user; sorted. */
export function nodeIdsOf(cloud: CloudServices, account: UserAccount): string[] {
	const ids = new Set([...cloud.registry.all().map(node => node.id), ...cloud.users.mappedNodes()]);
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
