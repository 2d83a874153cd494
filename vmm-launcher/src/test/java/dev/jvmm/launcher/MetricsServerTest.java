package dev.jvmm.launcher;

import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MetricsServerTest {

    @Test
    void aScrapeShowsTheRunsCountersInPrometheusFormat() throws Exception {
        try (VirtualMachine vm = VirtualMachine.builder(TestSupport.shipped("toy-guest.yaml")).build();
             TestSupport.Sender s = new TestSupport.Sender()) {
            vm.start();
            vm.awaitGuestRunning(Duration.ofSeconds(30));
            for (int i = 0; i < 20; i++) {
                s.send(TestSupport.payload(i, 64, 0), vm.nicPort(0));
            }
            TestSupport.await(() -> vm.guest().total(dev.jvmm.guest.GuestReport.Counter.FRAMES) == 20, 10_000,
                    "20 datagrams");
            try (MetricsServer m = MetricsServer.start(vm, new Converters.HostPortConverter().convert("0"))) {
                assertThat(m.address().getAddress().isLoopbackAddress()).as("a bare port binds loopback").isTrue();
                HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + m.address().getPort() + "/metrics")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("text/plain; version=0.0.4");
                assertThat(r.body()).contains("# TYPE jvmm_nic_rx_datagrams_total counter")
                        .contains("jvmm_nic_rx_datagrams_total{nic=\"net0\"} 20")
                        .contains("jvmm_nic_guest_received_total{nic=\"net0\"} 20")
                        .contains("jvmm_injection_latency_seconds{quantile=\"0.99\"}");
            }
        }
    }

    @Test
    void badAddressesAreUsageErrors() {
        assertThatThrownBy(() -> new Converters.HostPortConverter().convert("localhost:http"))
                .hasMessageContaining("HOST:PORT");
        assertThat(new Converters.HostPortConverter().convert("0.0.0.0:9100"))
                .isEqualTo(new InetSocketAddress("0.0.0.0", 9100));
    }
}
