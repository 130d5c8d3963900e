/* A TCP port on 127.0.0.1 that was free a moment ago (for servers a test starts on a known port). */
import {createServer, type AddressInfo} from "node:net";

export function freePort(): Promise<number> {
	return new Promise(resolve => {
		const server = createServer();
		server.listen(0, "127.0.0.1", () => {
			const port = (server.address() as AddressInfo).port;
			server.close(() => resolve(port));
		});
	});
}
