/*
 * The XS console of an instrumented QEMU build (docs/device.md, section 9). The SDK's
 * debugger_uart.c writes with uart_write_bytes on a UART driver installed without a TX buffer,
 * which waits for the TX-FIFO-empty interrupt; in the emulated ESP32-C3 that wait never ended:
 * the XS task stopped after its second line (the first boot in QEMU printed the instrumentation
 * key, one sample and then nothing from XS, while ESP-IDF's own tasks went on). These two replace
 * the SDK's weak ESP_put/ESP_putc with the ROM's polled output, the path of ESP-IDF's early log.
 * Only the openeth (QEMU) build has them; openeth_console_polled() is called by network-openeth.c
 * so that this object is linked.
 */
#include <stdint.h>
#include "esp_rom_serial_output.h"

int openeth_console_polled(void)
{
	return 0;
}

void ESP_put(uint8_t *c, int count)
{
	while (count-- > 0)
		esp_rom_output_tx_one_char(*c++);
}

void ESP_putc(int c)
{
	esp_rom_output_tx_one_char((uint8_t)c);
}
