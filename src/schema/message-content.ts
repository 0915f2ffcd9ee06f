import type { MessagePart } from '../upstream/upstream-api.ts';
import { builder } from './builder.ts';

type TextPart = Extract<MessagePart, { type: 'text' }>;
type ImageFilePart = Extract<MessagePart, { type: 'image_file' }>;
type ImageUrlPart = Extract<MessagePart, { type: 'image_url' }>;
type RefusalPart = Extract<MessagePart, { type: 'refusal' }>;

const TextContentRef = builder.objectRef<TextPart>('TextContent').implement({
  description: 'A text part of a message.',
  fields: (t) => ({
    text: t.string({ description: 'The text.', resolve: (part) => part.text.value }),
    annotations: t.field({
      type: 'JSON',
      description:
        'The API’s annotations of the text (file citations, file paths), as it gives them, snake_case inside; `[]` when none.',
      resolve: (part) => part.text.annotations,
    }),
  }),
});

const ImageFileContentRef = builder.objectRef<ImageFilePart>('ImageFileContent').implement({
  description: 'An image part that refers to an uploaded file.',
  fields: (t) => ({
    fileId: t.string({ description: 'The file id of the image.', resolve: (part) => part.image_file.file_id }),
    detail: t.string({
      nullable: true,
      description: 'The detail level (`auto`, `low`, `high`), or null when none was given.',
      resolve: (part) => part.image_file.detail,
    }),
  }),
});

const ImageUrlContentRef = builder.objectRef<ImageUrlPart>('ImageUrlContent').implement({
  description: 'An image part that refers to a URL.',
  fields: (t) => ({
    url: t.string({ description: 'The image URL.', resolve: (part) => part.image_url.url }),
    detail: t.string({
      nullable: true,
      description: 'The detail level (`auto`, `low`, `high`), or null when none was given.',
      resolve: (part) => part.image_url.detail,
    }),
  }),
});

const RefusalContentRef = builder.objectRef<RefusalPart>('RefusalContent').implement({
  description: 'The assistant’s refusal to answer.',
  fields: (t) => ({
    refusal: t.string({ description: 'The refusal text.', resolve: (part) => part.refusal }),
  }),
});

const PART_TYPES = {
  text: TextContentRef,
  image_file: ImageFileContentRef,
  image_url: ImageUrlContentRef,
  refusal: RefusalContentRef,
} as const;

export const MessageContentRef = builder.unionType('MessageContent', {
  description: 'One content part of a message. Part types the gateway does not know are skipped, never an error.',
  types: [TextContentRef, ImageFileContentRef, ImageUrlContentRef, RefusalContentRef],
  resolveType: (part: MessagePart) => PART_TYPES[part.type],
});
