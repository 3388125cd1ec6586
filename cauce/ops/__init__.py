"""Operations tools: the cost estimate and its advice, the doctor, the Lambda layer build."""
