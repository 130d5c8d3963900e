/*
 * Process entry of one node boot (spawned by the supervisor, or by tests that cut the power).
 * Exit codes: 0 quit, 2 bad options, 1 no bootable image or another start-up error, 3 reboot.
 */
import {OptionError} from "../../ota/options";
import {bootNode} from "./boot";
import {NODE_USAGE, parseNodeOptions} from "./node-options";

try {
	bootNode(parseNodeOptions(process.argv.slice(2), process.stdin.isTTY === true));
} catch (error) {
	if (error instanceof OptionError) {
		process.stderr.write(`rainmaker-ota-xs node: ${error.message}\n${NODE_USAGE}\n`);
		process.exit(2);
	}
	process.stderr.write(`rainmaker-ota-xs node: ${error instanceof Error ? error.message : String(error)}\n`);
	process.exit(1);
}
