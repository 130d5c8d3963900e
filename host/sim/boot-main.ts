/*
 * Process entry of one node boot (spawned by the supervisor, or by tests that cut the power).
 * Exit codes: 0 quit, 2 bad options or no bootable firmware (one line saying what to do), 1 another
 * start-up error, 3 reboot.
 */
import {NoBootableImageError} from "../../idf/bootloader";
import {OptionError} from "../../ota/options";
import {bootNode} from "./boot";
import {parseNodeOptions} from "./node-options";

try {
	bootNode(parseNodeOptions(process.argv.slice(2), process.stdin.isTTY === true));
} catch (error) {
	if (error instanceof OptionError) {
		process.stderr.write(
			`rainmaker-ota-xs node: ${error.message} (rainmaker-ota-xs node --help lists the options)\n`,
		);
		process.exit(2);
	}
	if (error instanceof NoBootableImageError) {
		process.stderr.write(
			`rainmaker-ota-xs node: no bootable firmware in the flash (${error.message}): pass --image <app.bin> to provision one, after deleting the --flash-dir folder if it holds a broken flash\n`,
		);
		process.exit(2);
	}
	process.stderr.write(`rainmaker-ota-xs node: ${error instanceof Error ? error.message : String(error)}\n`);
	process.exit(1);
}
