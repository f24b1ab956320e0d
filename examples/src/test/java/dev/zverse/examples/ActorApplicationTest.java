package dev.zverse.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.zverse.examples.ActorApplication.Clerk.Outcome;
import dev.zverse.examples.ActorApplication.Order;
import dev.zverse.examples.ActorApplication.Report;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.RepeatedTest;

class ActorApplicationTest {
  /** Racing clerks: many small orders of few items, so that conditions fail and clerks retry. */
  private static List<Order> manyOrders() {
    List<Order> orders = new ArrayList<>(ActorApplication.ORDERS);
    for (int i = 0; i < 60; i++) {
      orders.add(new Order(i % 2 == 0 ? "lamp" : "chair", 1 + i % 3));
    }
    return orders;
  }

  @RepeatedTest(3)
  void stockIsNeverSoldTwice() {
    Output out = new Output();
    List<Order> orders = manyOrders();
    Report report = ActorApplication.run(out.stream, ActorApplication.STOCK, orders);

    assertEquals(orders.size(), report.outcomes().size(), out::text);
    Map<String, Integer> reserved = new HashMap<>();
    Set<Long> versions = new HashSet<>();
    long reservations = 0;
    for (Outcome o : report.outcomes()) {
      if (o.reserved()) {
        reserved.merge(o.item(), o.quantity(), Integer::sum);
        assertTrue(
            versions.add(o.version()), () -> "two reservations committed as one version: " + o);
        reservations++;
      } else {
        assertTrue(o.detail().startsWith("only "), () -> "refused for another reason: " + o);
        int left = Integer.parseInt(o.detail().split(" ")[1]);
        assertTrue(left < o.quantity(), () -> "refused although in stock: " + o);
      }
    }
    for (Map.Entry<String, Integer> item : ActorApplication.STOCK.entrySet()) {
      int end = report.finalStock().get(item.getKey());
      assertTrue(end >= 0, () -> item.getKey() + " went negative\n" + out.text());
      assertEquals(
          (int) item.getValue(),
          end + reserved.getOrDefault(item.getKey(), 0),
          () -> "stock of " + item.getKey() + " does not add up\n" + out.text());
    }
    assertEquals(reservations, report.reservations(), out::text);
    assertEquals(
        1 + reservations, report.version(), "one version for the stock, one per reservation");
  }
}
