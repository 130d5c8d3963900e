/*
 * ESP-IDF's plain OTA, timed: QEMU's OpenCores Ethernet with DHCP (as device/esp32/openeth), then
 * one update with esp_https_ota's API (esp_https_ota_begin, _perform until done, _finish: what
 * esp_https_ota() does) from the URL with the CA certificate that the host wrote at the start of the
 * fctry partition ("URL\n" then the CA PEM, NUL-terminated). Prints one BENCH line with the time
 * (in all, and of begin = connect + TLS handshake + response headers, perform = download +
 * esp_ota_write, finish = esp_ota_end + esp_ota_set_boot_partition) and ESP-IDF's free internal
 * heap (heap_caps) before, during (minimum) and after.
 * The image is written to ota_1 and selected, but the app does not restart.
 */
#include <stdio.h>
#include <string.h>
#include "freertos/FreeRTOS.h"
#include "freertos/event_groups.h"
#include "esp_event.h"
#include "esp_netif.h"
#include "esp_eth.h"
#include "esp_log.h"
#include "esp_timer.h"
#include "esp_heap_caps.h"
#include "esp_partition.h"
#include "esp_ota_ops.h"
#include "esp_http_client.h"
#include "esp_https_ota.h"

static EventGroupHandle_t gEvents;
static char gConfig[4096];

static void gotIP(void *arg, esp_event_base_t base, int32_t id, void *data)
{
	xEventGroupSetBits(gEvents, 1);
}

static void startEthernet(void)
{
	ESP_ERROR_CHECK(esp_netif_init());
	ESP_ERROR_CHECK(esp_event_loop_create_default());
	esp_netif_config_t netifConfig = ESP_NETIF_DEFAULT_ETH();
	esp_netif_t *netif = esp_netif_new(&netifConfig);
	eth_mac_config_t macConfig = ETH_MAC_DEFAULT_CONFIG();
	eth_phy_config_t phyConfig = ETH_PHY_DEFAULT_CONFIG();
	phyConfig.autonego_timeout_ms = 100;
	esp_eth_config_t config = ETH_DEFAULT_CONFIG(esp_eth_mac_new_openeth(&macConfig), esp_eth_phy_new_generic(&phyConfig));
	esp_eth_handle_t eth = NULL;
	ESP_ERROR_CHECK(esp_eth_driver_install(&config, &eth));
	ESP_ERROR_CHECK(esp_netif_attach(netif, esp_eth_new_netif_glue(eth)));
	ESP_ERROR_CHECK(esp_event_handler_register(IP_EVENT, IP_EVENT_ETH_GOT_IP, gotIP, NULL));
	ESP_ERROR_CHECK(esp_eth_start(eth));
}

void app_main(void)
{
	gEvents = xEventGroupCreate();
	const esp_partition_t *fctry = esp_partition_find_first(ESP_PARTITION_TYPE_DATA, ESP_PARTITION_SUBTYPE_ANY, "fctry");
	if (!fctry || (ESP_OK != esp_partition_read(fctry, 0, gConfig, sizeof(gConfig) - 1))) {
		printf("BENCH: error: no fctry partition to read the URL from\n");
		return;
	}
	char *newline = strchr(gConfig, '\n');
	if (!newline || !strchr(newline, 0)) {
		printf("BENCH: error: fctry does not start with \"URL\\nCA PEM\"\n");
		return;
	}
	*newline = 0;
	startEthernet();
	if (!(xEventGroupWaitBits(gEvents, 1, pdFALSE, pdTRUE, pdMS_TO_TICKS(30000)) & 1)) {
		printf("BENCH: error: no DHCP lease\n");
		return;
	}
	esp_http_client_config_t http = {
		.url = gConfig,
		.cert_pem = newline + 1,
		.skip_cert_common_name_check = true,	/* the certificate names 10.0.2.2 as a DNS name (docs/device.md section 11) */
		.buffer_size = 1460,
		.timeout_ms = 30000,
	};
	esp_https_ota_config_t ota = {.http_config = &http};
	size_t before = heap_caps_get_free_size(MALLOC_CAP_INTERNAL);
	heap_caps_monitor_local_minimum_free_size_start();
	printf("BENCH: start %s, free internal heap %u\n", gConfig, (unsigned)before);
	/* what esp_https_ota() does (begin, perform until done, finish), with a time at each step */
	int64_t started = esp_timer_get_time(), connected = started, received = started;
	esp_https_ota_handle_t handle = NULL;
	esp_err_t err = esp_https_ota_begin(&ota, &handle);
	if (ESP_OK == err) {
		connected = esp_timer_get_time();
		do
			err = esp_https_ota_perform(handle);
		while (ESP_ERR_HTTPS_OTA_IN_PROGRESS == err);
		received = esp_timer_get_time();
		if (ESP_OK == err)
			err = esp_https_ota_finish(handle);
		else
			esp_https_ota_abort(handle);
	}
	int64_t took = esp_timer_get_time() - started;
	size_t minimum = heap_caps_get_minimum_free_size(MALLOC_CAP_INTERNAL);
	heap_caps_monitor_local_minimum_free_size_stop();
	const esp_partition_t *next = esp_ota_get_boot_partition();
	printf("BENCH: esp_https_ota %s (%d) in %lld ms (begin %lld ms, perform %lld ms, finish %lld ms); boot partition %s; free internal heap before %u, minimum %u, after %u\n",
		esp_err_to_name(err), (int)err, (long long)(took / 1000), (long long)((connected - started) / 1000),
		(long long)((received - connected) / 1000), (long long)((started + took - received) / 1000),
		next ? next->label : "?", (unsigned)before, (unsigned)minimum, (unsigned)heap_caps_get_free_size(MALLOC_CAP_INTERNAL));
}
