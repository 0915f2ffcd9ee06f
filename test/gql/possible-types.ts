
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
    ],
    "RunEvent": [
      "MessageCompleted",
      "MessageTextDelta",
      "RunStatusChanged"
    ],
    "ThreadEvent": [
      "MessageCreated",
      "MessageDeleted",
      "MessageUpdated",
      "RunStatusChanged",
      "ThreadDeleted",
      "ThreadUpdated"
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
    ],
    "RunEvent": [
      "MessageCompleted",
      "MessageTextDelta",
      "RunStatusChanged"
    ],
    "ThreadEvent": [
      "MessageCreated",
      "MessageDeleted",
      "MessageUpdated",
      "RunStatusChanged",
      "ThreadDeleted",
      "ThreadUpdated"
    ]
  }
};
      export default result;
    