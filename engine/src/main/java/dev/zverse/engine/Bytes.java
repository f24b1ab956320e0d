package dev.zverse.engine;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import org.jspecify.annotations.Nullable;

/** How keys and values are shown in messages: as text where they are printable UTF-8, else hex. */
final class Bytes {
  private static final int MAX_SHOWN = 64;

  private Bytes() {}

  /** A short, readable rendering of {@code b} for messages and {@code toString}. */
  static String describe(byte @Nullable [] b) {
    if (b == null) {
      return "null";
    }
    int n = Math.min(b.length, MAX_SHOWN);
    String tail = b.length > MAX_SHOWN ? "...(" + b.length + " bytes)" : "";
    try {
      CharBuffer text =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(b, 0, n));
      boolean printable = text.chars().noneMatch(Character::isISOControl);
      if (printable) {
        return "\"" + text + "\"" + tail;
      }
    } catch (CharacterCodingException e) {
      // not text: fall through to hex
    }
    StringBuilder hex = new StringBuilder("0x");
    for (int i = 0; i < n; i++) {
      hex.append(Character.forDigit((b[i] >> 4) & 0xF, 16))
          .append(Character.forDigit(b[i] & 0xF, 16));
    }
    return hex + tail;
  }
}
