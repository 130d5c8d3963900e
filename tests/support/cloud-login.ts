/* Logging in to the local cloud as a user does (POST login2), for tests that call the REST API. */
import type {Cloud} from "../../host/cloud/cloud";
import {DEFAULT_USER} from "../../host/cloud/defaults";

export interface Tokens {
	idtoken: string;
	accesstoken: string;
	refreshtoken: string;
}

/** Logs in with a user name and password; throws with the cloud's answer when refused. */
export async function login(cloud: Cloud, user: {userName: string; password: string} = DEFAULT_USER): Promise<Tokens> {
	const response = await fetch(new URL("login2", cloud.httpUrl), {
		method: "POST",
		body: JSON.stringify({user_name: user.userName, password: user.password}),
	});
	const body = (await response.json()) as Tokens & {description?: string};
	if (response.status !== 200)
		throw new Error(`login2 as ${user.userName}: HTTP ${response.status}: ${body.description}`);
	return body;
}

/** `{Authorization: <access token>}` of a fresh login. */
export async function authorization(
	cloud: Cloud,
	user?: {userName: string; password: string},
): Promise<{Authorization: string}> {
	return {Authorization: (await login(cloud, user)).accesstoken};
}

/** fetch of a REST path (relative to cloud.httpUrl) as the logged-in default user. */
export async function userFetch(cloud: Cloud, path: string, init: RequestInit = {}): Promise<Response> {
	return fetch(new URL(path, cloud.httpUrl), {
		...init,
		headers: {...(init.headers as Record<string, string> | undefined), ...(await authorization(cloud))},
	});
}
