
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
      "Assistant",
      "Run",
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
      "Assistant",
      "Run",
      "Thread"
    ]
  }
};
      export default result;
    