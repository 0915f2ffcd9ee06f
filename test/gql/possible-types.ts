
      export type PossibleTypesResultData = {
  "possibleTypes": {
    "_Entity": [
      "Thread"
    ],
    "MessageContent": [
      "ImageFileContent",
      "ImageUrlContent",
      "RefusalContent",
      "TextContent"
    ],
    "Node": [
      "Thread"
    ]
  }
};
      const result: PossibleTypesResultData = {
  "possibleTypes": {
    "_Entity": [
      "Thread"
    ],
    "MessageContent": [
      "ImageFileContent",
      "ImageUrlContent",
      "RefusalContent",
      "TextContent"
    ],
    "Node": [
      "Thread"
    ]
  }
};
      export default result;
    