import { z } from 'zod';

/** The part of `qemu-img info --output=json --backing-chain` that Ferry uses. */
const imageInfoSchema = z.object({
  filename: z.string(),
  format: z.string(),
  'virtual-size': z.number(),
  'actual-size': z.number().optional(),
  'backing-filename': z.string().optional(),
  'full-backing-filename': z.string().optional(),
});
export const imageChainSchema = z.array(imageInfoSchema).min(1);
export type ImageInfo = z.infer<typeof imageInfoSchema>;

/** qemu-img prints a single object without --backing-chain and an array with it. */
export function parseImageChain(text: string): ImageInfo[] | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const parsed = imageChainSchema.safeParse(Array.isArray(value) ? value : [value]);
  return parsed.success ? parsed.data : null;
}
