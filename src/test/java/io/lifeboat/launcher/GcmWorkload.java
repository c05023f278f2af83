package io.lifeboat.launcher;

import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.nio.ByteBuffer;

/** What TLS 1.3 does to each 16 KiB record a download reads: AES-GCM decryption of heap buffers. */
public final class GcmWorkload {
    private GcmWorkload() {
    }

    public static void main(String[] args) throws Exception {
        SecretKeySpec key = new SecretKeySpec(new byte[16], "AES");
        byte[] iv = new byte[12];
        Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
        c.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(128, iv));
        byte[] record = c.doFinal(new byte[16384]);
        ByteBuffer out = ByteBuffer.allocate(record.length);
        int records = Integer.parseInt(args[args.length - 1]);
        for (int i = 0; i < records; i++) {
            c.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(128, iv));
            out.clear();
            c.doFinal(ByteBuffer.wrap(record), out);
        }
    }
}
